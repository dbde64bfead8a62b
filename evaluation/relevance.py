"""`skillstack eval relevance`: career goals judged from what providers say, not from our skill links.

The ranker reads course text (title, declared skills, description), its ESCO skill links and a few
priors. The judgements here come from elsewhere:

- **Roles** are the jobs providers name their credentials for. A course title whose trailing words
  are an occupation title of ESCO or O*NET ("IBM *Data Analyst*", "Tally *Bookkeeper*", "Preparing
  for Google Cloud Certification: Cloud *Data Engineer*") names that role; a one-word generic noun
  ("Developer") names none. Every role named by at least one course is a goal.
- **Relevance** of a course to a role, graded:
  3: the course is named for the role (the provider says: this is the credential for that job);
  2: its title names the role's field: every content word of the role, stemmed, starts a title word
     ("Data Analysis with Python" for data analyst; "Project Management Foundations" for project
     manager) — a weak role noun ("specialist", "agent") need not appear;
  1: it declares at least `PROFILE_OVERLAP` of the skills that the role's named credentials declare
     (the provider's own account of what the job needs), counting only tags rarer than
     `PROFILE_MAX_SHARE` of the catalogue.
- **Goals** come in three forms per role, none written by us: the role title itself; the first
  sentence of the ESCO description of the occupation with that label ("Data analysts import,
  inspect, clean, transform, validate, model, or interpret collections of data ..."); and the first
  core O*NET task statement of the O*NET occupation with that title (or crosswalked to it).
- Roles are split by a hash of the role into a tune half and a held-out half: every phrasing of
  one role falls in the same half, so the held-out half holds roles no weight was tuned on.

Every run reports the system (`recommender.api.recommend`, as a user calls it) beside two plain
baselines over the same course text — BM25 and all-MiniLM-L6-v2 cosine — and, with `ablations`,
the ranker with each of its parts switched off. Results in another language than the goal's are
counted per run. Limits: titles are read by every ranker, including the baselines, so grade 2
favours none of them in particular; tags are noisy (about one Coursera 2024 record in ten carries
another course's skills), which lowers every ranker's figures alike; roles come only from what the
catalogue's providers name credentials for (mostly tech, business and data jobs).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from core import embed
from recommender import api
from recommender.ranking import RankConfig

K = 10
PROFILE_OVERLAP = 3
PROFILE_MAX_SHARE = 0.03
MIN_RELEVANT = 3
# Role nouns too generic to name a job on their own ("IBM Developer"), and those that a title on the
# role's field need not repeat ("Digital Marketing" teaches a marketing specialist).
GENERIC_ROLE_NOUNS = frozenset(
    [
        "developer",
        "engineer",
        "manager",
        "analyst",
        "specialist",
        "consultant",
        "associate",
        "designer",
        "programmer",
        "administrator",
        "architect",
        "technician",
        "assistant",
        "officer",
        "executive",
        "representative",
        "agent",
        "coordinator",
        "professional",
        "practitioner",
        "scientist",
        "master",
        "owner",
        "creator",
        "writer",
        "leader",
        "expert",
        "director",
        "lead",
        "head",
        "intern",
        "trainee",
        "worker",
        "operator",
    ]
)
WEAK_ROLE_NOUNS = frozenset(
    [
        "specialist",
        "associate",
        "executive",
        "representative",
        "agent",
        "consultant",
        "professional",
        "practitioner",
        "expert",
        "officer",
        "assistant",
        "coordinator",
        "lead",
        "head",
    ]
)
STOP_WORDS = frozenset(["a", "an", "and", "the", "of", "for", "in", "on", "to", "with", "at", "by", "from", "or", "as"])
FORMS = ("role", "esco-description", "onet-task")


@dataclass(frozen=True)
class Goal:
    role: str
    form: str  # one of FORMS
    text: str
    relevance: dict[str, int]  # course id -> grade 1..3
    split: str  # "tune" | "held-out"


def normalise_phrase(text: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", text.lower())
    text = re.sub(r"[-/_]", " ", text)
    text = re.sub(r"[^\w+# ]", " ", text)
    return " ".join(text.split())


def split_of(role: str) -> str:
    return "tune" if int(hashlib.sha256(role.encode()).hexdigest(), 16) % 2 == 0 else "held-out"


def _stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word


def role_of_title(title: str, vocabulary: set[str]) -> str | None:
    """The role a course title is named for: the longest run of trailing words of one of its parts
    (split at ':' and ' - ') that is an occupation title, or None."""
    for part in reversed(re.split(r":| - | \| ", title)):
        words = normalise_phrase(part).split()
        for start in range(len(words)):
            phrase = " ".join(words[start:])
            if phrase in vocabulary and not (len(words) - start == 1 and phrase in GENERIC_ROLE_NOUNS):
                return phrase
    return None


def field_match(role: str, title: str) -> bool:
    """Whether a title names the role's field: each content word of the role, stemmed, starts a word
    of the title (weak role nouns may be missing)."""
    title_words = normalise_phrase(title).split()
    needed = [w for w in role.split() if w not in STOP_WORDS]
    content = [w for w in needed if w not in WEAK_ROLE_NOUNS] or needed
    return all(any(t.startswith(_stem(w)) for t in title_words) for w in content)


def occupation_vocabulary(eng) -> set[str]:
    rows = eng.read(
        """
        SELECT label AS title FROM occupations
        UNION SELECT unnest(alt_labels) FROM occupations
        UNION SELECT title FROM onet_occupations
        UNION SELECT title FROM onet_titles
        """
    )
    return {p for p in (normalise_phrase(t) for t in rows["title"].dropna()) if p}


def build_goals(limit: int | None = None) -> list[Goal]:
    eng = api.engine()
    vocabulary = occupation_vocabulary(eng)
    courses = eng.read(
        "SELECT id, name, coalesce(skills_declared, []) AS tags FROM courses WHERE status = 'active' ORDER BY id"
    )
    ids = courses["id"].tolist()
    titles = courses["name"].tolist()
    tags = [{normalise_phrase(t) for t in row if t} for row in courses["tags"]]
    tag_share = Counter(t for row in tags for t in row)
    common = {t for t, n in tag_share.items() if n > PROFILE_MAX_SHARE * max(len(ids), 1)}

    named: dict[str, list[int]] = {}
    for i, title in enumerate(titles):
        role = role_of_title(title, vocabulary)
        if role:
            named.setdefault(role, []).append(i)

    lay = _lay_phrasings(eng, set(named))
    goals: list[Goal] = []
    for role in sorted(named):
        profile = set().union(*(tags[i] for i in named[role])) - common
        relevance: dict[str, int] = {}
        for i, title in enumerate(titles):
            grade = 0
            if i in named[role]:
                grade = 3
            elif field_match(role, title):
                grade = 2
            elif len(tags[i] & profile) >= PROFILE_OVERLAP:
                grade = 1
            if grade:
                relevance[ids[i]] = grade
        if len(relevance) < MIN_RELEVANT:
            continue
        split = split_of(role)
        goals.append(Goal(role, "role", role, relevance, split))
        for form, text in lay.get(role, {}).items():
            goals.append(Goal(role, form, text, relevance, split))
    return goals[:limit] if limit else goals


def _lay_phrasings(eng, roles: set[str]) -> dict[str, dict[str, str]]:
    """Per role, the first sentence of the ESCO description of the occupation so named (its preferred
    label first) and the first core task of the O*NET occupation so titled (or crosswalked to it)."""
    occupations = eng.read("SELECT uri, label, coalesce(alt_labels, []) AS alt, description FROM occupations")
    esco: dict[str, tuple[int, str, str]] = {}  # role -> (rank, uri, first sentence)
    for uri, label, alt, description in occupations.itertuples(index=False, name=None):
        if not description:
            continue
        sentence = _first_sentence(description)
        for rank, surface in enumerate([label, *alt]):
            role = normalise_phrase(surface)
            if role in roles and (role not in esco or (min(rank, 1), uri) < esco[role][:2]):
                esco[role] = (min(rank, 1), uri, sentence)
    onet_titles = eng.read(
        "SELECT code, title FROM onet_occupations UNION SELECT code, title FROM onet_titles ORDER BY code"
    )
    onet_by_role: dict[str, str] = {}
    for code, title in onet_titles.itertuples(index=False, name=None):
        onet_by_role.setdefault(normalise_phrase(title), code)
    crosswalk = dict(
        eng.read(
            "SELECT esco_uri, min(onet_code) AS code FROM esco_onet_crosswalk WHERE match_type = 'exactMatch' "
            "GROUP BY esco_uri"
        ).itertuples(index=False, name=None)
    )
    tasks = eng.read(
        "SELECT code, task FROM onet_tasks WHERE task_type = 'Core' OR task_type IS NULL "
        "ORDER BY code, try_cast(task_id AS INTEGER), task_id"
    )
    first_task: dict[str, str] = {}
    for code, task in tasks.itertuples(index=False, name=None):
        first_task.setdefault(code, task)
    phrasings: dict[str, dict[str, str]] = {}
    for role in roles:
        forms = {}
        if role in esco:
            forms["esco-description"] = esco[role][2]
        code = onet_by_role.get(role) or (crosswalk.get(esco[role][1]) if role in esco else None)
        if code and code in first_task:
            forms["onet-task"] = first_task[code]
        phrasings[role] = forms
    return phrasings


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", " ".join(text.split()), maxsplit=1)[0]
    return sentence[:400]


# ---------------------------------------------------------------- metrics


def ndcg_at_k(ranked: list[str], relevance: dict[str, int], k: int = K) -> float:
    gains = [relevance.get(c, 0) for c in ranked[:k]]
    dcg = sum((2**g - 1) / np.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(relevance.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / np.log2(i + 2) for i, g in enumerate(ideal))
    return float(dcg / idcg) if idcg else 0.0


def recall_at_k(ranked: list[str], relevance: dict[str, int], k: int = K) -> float:
    """Courses of grade 2 or 3 in the top k over those that fit in k (so 1.0 is reachable)."""
    strong = {c for c, g in relevance.items() if g >= 2}
    if not strong:
        return 0.0
    return sum(1 for c in ranked[:k] if c in strong) / min(k, len(strong))


# ---------------------------------------------------------------- runs

# Each ablation switches one part of the ranker off (see recommender.ranking.RankConfig).
ABLATIONS = {
    "without semantic": {"semantic": 0.0},
    "without BM25": {"lexical": 0.0},
    "without title match": {"title": 0.0},
    "with skill coverage (0.1)": {"coverage": 0.1},
    "without priors": {"priors": 0.0},
    "without occupation in the query": {"occupation_weight": 0.0},
    "without language preference": {"prefer_goal_language": False},
    "without edition grouping": {"group_editions": False},
    "without relevance floor": {"floor": False},
}


def evaluate(
    *, limit: int | None = None, ablations: bool = True, variants: dict[str, RankConfig] | None = None
) -> dict:
    """The report: per half, the system, the baselines and each variant (the ablations by default)."""
    eng = api.engine()
    goals = build_goals(limit)
    ids = eng.courses["id"].to_numpy()
    languages = eng.courses["in_language"].to_numpy()
    runs: dict[str, list[tuple[Goal, list[str]]]] = {"system": [], "BM25": [], "MiniLM cosine": []}
    if variants is None:
        variants = {name: replace(RankConfig(), **change) for name, change in ABLATIONS.items()} if ablations else {}
    for name in variants:
        runs[name] = []
    vectors = embed.encode([g.text for g in goals]) if goals else np.zeros((0, embed.DIMENSIONS))
    claims: Counter = Counter()  # what backs each skill a stack step claims: title, description, declared tag
    for goal, vector in zip(goals, vectors, strict=True):
        rec = api.recommend(goal.text, k=K)
        runs["system"].append((goal, [r.course_id for r in rec.results]))
        for step in rec.stack.steps if rec.stack else ():
            evidence = dict(zip(step.course.matched_skills, step.course.evidence, strict=True))
            claims.update(evidence[skill].split(":")[0].rstrip("~") for skill in step.closes)
        lexical = eng.lexical.scores(goal.text)
        runs["BM25"].append((goal, list(ids[np.argsort(-lexical, kind="stable")[:K]])))
        runs["MiniLM cosine"].append((goal, list(ids[np.argsort(-(eng.course_matrix @ vector), kind="stable")[:K]])))
        for name, config in variants.items():
            ranked = api.recommend(goal.text, k=K, config=config).results
            runs[name].append((goal, [r.course_id for r in ranked]))

    language_of = dict(zip(ids, languages, strict=True))
    report: dict = {
        "goals": len(goals),
        "roles": len({g.role for g in goals}),
        "k": K,
        "forms": dict(Counter(g.form for g in goals)),
        "relevant_per_goal": round(float(np.mean([len(g.relevance) for g in goals])), 1) if goals else 0,
        # Of the skills the system's stacks claim, the share each kind of evidence backs.
        "stack claims": {kind: round(n / sum(claims.values()), 3) for kind, n in claims.most_common()},
    }
    for part in ("tune", "held-out", "all"):
        figures = {}
        for name, rows in runs.items():
            chosen = [(g, r) for g, r in rows if part in ("all", g.split)]
            figures[name] = _figures(chosen, language_of)
        baseline = max(figures["BM25"]["ndcg@10"] or 0, figures["MiniLM cosine"]["ndcg@10"] or 0)
        figures["system over best baseline"] = (
            round(figures["system"]["ndcg@10"] / baseline, 3) if baseline and figures["system"]["ndcg@10"] else None
        )
        report[part] = figures
    return report


def _figures(rows: list[tuple[Goal, list[str]]], language_of: dict) -> dict:
    if not rows:
        return {"goals": 0, "ndcg@10": None, "recall@10": None}
    figures = {
        "goals": len(rows),
        "ndcg@10": round(float(np.mean([ndcg_at_k(r, g.relevance) for g, r in rows])), 4),
        "recall@10": round(float(np.mean([recall_at_k(r, g.relevance) for g, r in rows])), 4),
        "other language in top 10": sum(
            1 for _, r in rows for c in r[:K] if language_of.get(c) and language_of.get(c) != "en"
        ),
        "results per goal": round(float(np.mean([len(r) for _, r in rows])), 2),
    }
    for form in FORMS:
        by_form = [(g, r) for g, r in rows if g.form == form]
        if by_form:
            figures[f"ndcg@10 {form}"] = round(float(np.mean([ndcg_at_k(r, g.relevance) for g, r in by_form])), 4)
    return figures


def format_report(report: dict) -> str:
    lines = [
        f"{report['goals']} goals from {report['roles']} roles ({report['forms']}), "
        f"{report['relevant_per_goal']} judged courses per goal, k={report['k']}",
        f"skills the stacks claim, by evidence: {report['stack claims']}",
    ]
    for part in ("tune", "held-out", "all"):
        figures = report[part]
        lines.append(f"{part} (system over best baseline: {figures['system over best baseline']})")
        for name, f in figures.items():
            if isinstance(f, dict):
                forms = "  ".join(f"{form} {f[key]}" for form in FORMS if (key := f"ndcg@10 {form}") in f)
                lines.append(
                    f"  {name:34} nDCG@10 {f['ndcg@10']}  R@10 {f['recall@10']}  {forms}  "
                    f"other-language {f.get('other language in top 10')}  shown {f.get('results per goal')}"
                )
    return "\n".join(lines)
