-- skillstack: the only DDL. Applied idempotently to crawl.duckdb and to every new catalog.duckdb
-- (pipeline.store.apply_schema). The crawl tables also exist in the catalogue so that `build` can
-- publish the crawl history beside the courses and the dashboard reads one read-only file.

-- ---------------------------------------------------------------- crawl (append-only)

-- One row per source per crawl. status: running -> finished | failed. A run still `running`
-- (killed midway) is never used by `build`.
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id        VARCHAR NOT NULL,      -- one id for all sources crawled by one `skillstack crawl`
    source        VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP,
    status        VARCHAR NOT NULL,
    finish_reason VARCHAR,
    items         INTEGER DEFAULT 0,
    errors        INTEGER DEFAULT 0,
    dropped       INTEGER DEFAULT 0,
    stats         JSON,                  -- Scrapy stats: per-field missing/invalid, HTTP status counts
    PRIMARY KEY (run_id, source)
);

-- Every item of every run, as the spider yielded it (raw values; normalising is the pipeline's job).
CREATE TABLE IF NOT EXISTS crawl_items (
    run_id     VARCHAR NOT NULL,
    source     VARCHAR NOT NULL,
    course_id  VARCHAR NOT NULL,         -- <source>/<provider ref>
    url        VARCHAR,
    item       JSON NOT NULL,
    scraped_at TIMESTAMP NOT NULL
);

-- The course pages a sitemap listed, per run, whether or not the page could be fetched: a course's
-- own address (the mirror holds Coursera's course sitemap but none of its pages). `build` gives a
-- course that its sources only link to through a search the listed page named by its title.
CREATE TABLE IF NOT EXISTS sitemap_pages (
    run_id   VARCHAR NOT NULL,
    source   VARCHAR NOT NULL,
    provider VARCHAR,                    -- the spider's provider: whose courses these pages are
    loc      VARCHAR NOT NULL,
    lastmod  VARCHAR
);

-- ---------------------------------------------------------------- taxonomy (ESCO v1.1.1, O*NET 29.2)

CREATE TABLE IF NOT EXISTS skills (
    uri          VARCHAR PRIMARY KEY,
    label        VARCHAR NOT NULL,
    alt_labels   VARCHAR[],
    skill_type   VARCHAR,                -- skill/competence | knowledge
    reuse_level  VARCHAR,                -- transversal | cross-sector | sector-specific | occupation-specific
    description  VARCHAR
);

CREATE TABLE IF NOT EXISTS occupations (
    uri          VARCHAR PRIMARY KEY,
    label        VARCHAR NOT NULL,
    alt_labels   VARCHAR[],
    isco_group   VARCHAR,
    code         VARCHAR,
    description  VARCHAR
);

CREATE TABLE IF NOT EXISTS occupation_skills (
    occupation_uri VARCHAR NOT NULL,
    skill_uri      VARCHAR NOT NULL,
    relation_type  VARCHAR NOT NULL,     -- essential | optional
    skill_type     VARCHAR
);

CREATE TABLE IF NOT EXISTS onet_occupations (
    code        VARCHAR PRIMARY KEY,     -- O*NET-SOC 2019, e.g. 15-2051.01
    title       VARCHAR NOT NULL,
    description VARCHAR
);

-- Job titles from O*NET: kind = alternate | short | reported.
CREATE TABLE IF NOT EXISTS onet_titles (
    code  VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    kind  VARCHAR NOT NULL
);

-- What workers of an O*NET occupation do ("Monitor computer networks for security threats"):
-- what a goal that describes the work, rather than naming a job, can match. task_type = Core | Supplemental.
CREATE TABLE IF NOT EXISTS onet_tasks (
    code      VARCHAR NOT NULL,
    task_id   VARCHAR NOT NULL,
    task      VARCHAR NOT NULL,
    task_type VARCHAR
);

CREATE TABLE IF NOT EXISTS onet_technology (
    code            VARCHAR NOT NULL,
    example         VARCHAR NOT NULL,
    commodity_title VARCHAR,
    hot             BOOLEAN,
    in_demand       BOOLEAN
);

CREATE TABLE IF NOT EXISTS esco_onet_crosswalk (
    onet_code  VARCHAR NOT NULL,
    esco_uri   VARCHAR NOT NULL,
    match_type VARCHAR                   -- exactMatch | closeMatch | broadMatch | narrowMatch | exactISCO
);

-- Vectors of taxonomy surfaces (labels) used for goal resolution and skill linking.
-- kind: skill | occupation; surface: the text embedded; computed once per model.
CREATE TABLE IF NOT EXISTS taxonomy_vectors (
    kind    VARCHAR NOT NULL,
    uri     VARCHAR NOT NULL,
    surface VARCHAR NOT NULL,
    origin  VARCHAR NOT NULL,            -- esco-preferred | esco-alt | onet-title | ...
    model   VARCHAR NOT NULL,
    vector  FLOAT[384] NOT NULL
);

-- ---------------------------------------------------------------- catalogue

-- One row per course, however many sources list it: values chosen by source priority from its
-- records in course_records (pipeline.dedupe).
CREATE TABLE IF NOT EXISTS courses (
    id              VARCHAR PRIMARY KEY, -- <source>/<provider ref> of its best record when first built, stable
    source          VARCHAR NOT NULL,
    provider        VARCHAR NOT NULL,    -- platform: Coursera, edX, Udemy...
    institution     VARCHAR,             -- university or company
    url             VARCHAR NOT NULL,
    name            VARCHAR NOT NULL,
    description     VARCHAR,             -- cleaned text: what is embedded
    in_language     VARCHAR,             -- BCP 47
    level           VARCHAR,             -- beginner | intermediate | advanced | mixed
    hours           DOUBLE,              -- total estimated hours
    duration_raw    VARCHAR,
    course_mode     VARCHAR,             -- self-paced | scheduled
    credential      VARCHAR,             -- none | certificate | professional certificate | specialization | program | degree | badge | guided project
    credential_raw  VARCHAR,             -- the provider's own term
    price           DOUBLE,              -- current offer, in `currency`
    currency        VARCHAR,
    access_model    VARCHAR,             -- free | free-audit+paid-certificate | paid | subscription
    certificate_price DOUBLE,            -- free-audit+paid-certificate: what the certificate costs, in `currency`
    price_raw       VARCHAR,
    rating          DOUBLE,
    rating_count    INTEGER,
    skills_declared VARCHAR[],           -- the provider's own tags
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL,    -- active | removed
    content_hash    VARCHAR NOT NULL,    -- of the embedded text
    extras          JSON,
    tags_trusted    BOOLEAN              -- declared tags agree with the course's own text (pipeline.tag_check); NULL: none declared
);

-- Every source's record of a catalogue course (pipeline.dedupe groups them): its own id, URL, values
-- and first/last seen. `course_id` is the catalogue course it was grouped into.
CREATE TABLE IF NOT EXISTS course_records (
    id              VARCHAR PRIMARY KEY, -- <source>/<provider ref>
    course_id       VARCHAR NOT NULL,    -- courses.id
    source          VARCHAR NOT NULL,
    provider        VARCHAR NOT NULL,
    institution     VARCHAR,
    url             VARCHAR NOT NULL,
    name            VARCHAR NOT NULL,
    description     VARCHAR,
    in_language     VARCHAR,
    level           VARCHAR,
    hours           DOUBLE,
    duration_raw    VARCHAR,
    course_mode     VARCHAR,
    credential      VARCHAR,
    credential_raw  VARCHAR,
    price           DOUBLE,
    currency        VARCHAR,
    access_model    VARCHAR,
    certificate_price DOUBLE,
    price_raw       VARCHAR,
    rating          DOUBLE,
    rating_count    INTEGER,
    skills_declared VARCHAR[],
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL,
    content_hash    VARCHAR NOT NULL,    -- of this record's own text (change detection)
    extras          JSON,
    item_hash       VARCHAR              -- of the raw crawl item it was normalised from (pipeline.build)
);

-- Offer history: a row per observed change of price or access model.
CREATE TABLE IF NOT EXISTS offers (
    course_id    VARCHAR NOT NULL,
    price        DOUBLE,
    currency     VARCHAR,
    access_model VARCHAR,
    price_raw    VARCHAR,
    observed_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS course_skills (
    course_id VARCHAR NOT NULL,
    skill_uri VARCHAR NOT NULL,
    score     DOUBLE NOT NULL,
    evidence  VARCHAR NOT NULL           -- e.g. 'declared: Spreadsheet Software' | 'description'
);

-- Course vectors, keyed by what was embedded so unchanged text is never embedded again.
CREATE TABLE IF NOT EXISTS course_embeddings (
    content_hash VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    vector       FLOAT[384] NOT NULL,
    PRIMARY KEY (content_hash, model)
);

-- What the skill extractor found in one sentence of a course title or description, read in the
-- context of its course text (`pipeline.skills.read_courses`): keyed by the hash of the course text's
-- hash and the sentence, so an unchanged text is read once. A row with a NULL skill_uri marks a
-- course text as read.
CREATE TABLE IF NOT EXISTS sentence_skills (
    sentence_hash VARCHAR NOT NULL,
    extractor     VARCHAR NOT NULL,
    skill_uri     VARCHAR,
    score         DOUBLE
);

CREATE TABLE IF NOT EXISTS catalog_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);
