"""What the pages share: the view state in the URL, the goal header and the filter and goal controls,
the upload of what a learner holds, course cards, the attribution footer and the error notice.

The recommender's calls, cached, are in `dashboard.cached`; how facts read on screen, scraped text
always as text (`md`), in `dashboard.words`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import cached, nav
from dashboard.words import (
    facts_age,
    hours_text,
    language_text,
    md,
    price_text,
    rating_text,
    safe_url,
)
from recommender import api

ATTRIBUTION = (
    "Skills and occupations: this service uses the ESCO classification of the European Commission (ESCO v1.1.1). "
    "This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment "
    "and Training Administration (USDOL/ETA), used under the CC BY 4.0 license (converted in format); "
    "O*NET® is a trademark of USDOL/ETA."
)

LEVELS = ("beginner", "intermediate", "advanced", "mixed")
LEVEL_HELP = (
    "The level the provider gives. **mixed**: the provider lists the course for all levels, "
    "from beginners to advanced learners."
)


def footer() -> None:
    st.divider()
    st.caption(md(ATTRIBUTION))


def show_user_error(message: str) -> None:
    """An error the user can fix; the recommender's messages already say which command fixes it."""
    # `command` spans stay code; everything else is escaped text.
    parts = message.split("`")
    text = "".join(f"`{part}`" if i % 2 and part else md(part) for i, part in enumerate(parts))
    st.warning(text, icon=":material/info:")


@dataclass(frozen=True)
class ViewState:
    """What a counsellor's link reproduces: the goal, the chosen occupation, the skills the user has
    and the filters. It lives in the URL query parameters and, for page switches (which clear them),
    in the session."""

    goal: str = ""
    occupation: str | None = None  # an ESCO occupation URI other than the goal's best match
    have: tuple[str, ...] = ()
    filters: api.Filters = field(default_factory=api.Filters)

    def query(self) -> dict[str, str | list[str]]:
        f = self.filters
        params: dict[str, str | list[str]] = {
            "goal": self.goal.strip(),
            "occupation": self.occupation or "",
            "have": list(self.have),
            "free": "1" if f.free_only else "",
            "certificate": "1" if f.with_certificate else "",
            "level": list(f.levels),
            "language": list(f.languages),
            "max_hours": f"{f.max_hours:g}" if f.max_hours is not None else "",
            "max_price": f"{f.max_price:g}" if f.max_price is not None else "",
            "provider": list(f.providers),
        }
        return {k: v for k, v in params.items() if v}

    @classmethod
    def from_query(cls, params: Mapping[str, list[str]]) -> ViewState:
        def one(key: str) -> str:
            values = params.get(key) or [""]
            return values[-1].strip()

        def number(key: str) -> float | None:
            try:
                value = float(one(key))
            except ValueError:
                return None
            return value if value >= 0 else None

        return cls(
            goal=one("goal"),
            occupation=one("occupation") or None,
            have=tuple(h.strip() for h in params.get("have", []) if h.strip()),
            filters=api.Filters(
                free_only=one("free") in ("1", "true", "yes"),
                with_certificate=one("certificate") in ("1", "true", "yes"),
                levels=tuple(v for v in params.get("level", []) if v),
                languages=tuple(v for v in params.get("language", []) if v),
                max_hours=number("max_hours"),
                max_price=number("max_price"),
                providers=tuple(v for v in params.get("provider", []) if v),
            ),
        )


_STATE_KEYS = ("goal", "occupation", "have", "free", "certificate", "level", "language", "max_hours", "max_price",
               "provider")  # fmt: skip
_SESSION_STATE = "_skillstack_view"


def view_state() -> ViewState:
    """The view the URL describes; when it describes none (a page switch clears it), the session's."""
    if any(key in st.query_params for key in _STATE_KEYS):
        state = ViewState.from_query({key: st.query_params.get_all(key) for key in _STATE_KEYS})
    else:
        state = st.session_state.get(_SESSION_STATE, ViewState())
    st.session_state[_SESSION_STATE] = state
    return state


def publish(state: ViewState) -> None:
    """Write the view into the URL (so the link reproduces it) and the session (so other pages see it)."""
    st.session_state[_SESSION_STATE] = state
    wanted = state.query()
    for key in _STATE_KEYS:
        value = wanted.get(key)
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get_all(key) != ([value] if isinstance(value, str) else value):
            st.query_params[key] = value


def seed(key: str, value: object) -> None:
    """Give a widget its first value from the view state; afterwards the widget owns it."""
    if key not in st.session_state:
        st.session_state[key] = value


def split_have(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in re.split(r"[,;\n]", text) if p.strip()))


def goal_box(page: str, state: ViewState) -> str:
    seed(f"{page}_goal", state.goal)
    goal = st.text_input(
        "Your goal", key=f"{page}_goal", placeholder="I want to become a data analyst", help="Press Enter to search."
    )
    return goal.strip()


def have_box(page: str, state: ViewState) -> tuple[str, ...]:
    seed(f"{page}_have", ", ".join(state.have))
    have = st.text_input(
        "Skills I already have",
        key=f"{page}_have",
        placeholder="SQL, Excel, statistics",
        help="Several, separated by commas. Each is matched to an ESCO skill and left out of the gap; "
        "below the results you see what each one counted as.",
    )
    return split_have(have)


def goal_controls(page: str, state: ViewState) -> tuple[str, tuple[str, ...]]:
    """The goal box and the skills-I-have box side by side: (goal, have)."""
    left, right = st.columns([3, 2])
    with left:
        goal = goal_box(page, state)
    with right:
        have = have_box(page, state)
    return goal, have


@dataclass(frozen=True)
class Asked:
    """What a goal page's header was asked: the goal, the skills typed and the files brought, the filters."""

    state: ViewState
    summary: api.CatalogSummary
    goal: str
    have: tuple[str, ...]
    filters: api.Filters
    held: api.HeldSkills | None = None

    @property
    def have_skills(self) -> tuple[api.HeldSkill, ...]:
        return self.held.skills if self.held else ()

    def occupation(self, page: str) -> str | None:
        return occupation_choice(page, self.goal, self.state)

    def question(self, occupation: str | None) -> tuple:
        """What an answer depends on: a change of any of these is a new question (see `answer_slot`)."""
        return (self.goal, occupation, self.have, self.have_skills, self.filters)


def goal_header(
    page: str, title: str, caption: str, *, have: bool = True, held: bool = False, no_goal: str | None = None
) -> Asked | None:
    """The header the goal pages share: title and caption, the catalogue, the goal box (with `have`, the
    skills-I-have box beside it), the filters in the sidebar and (with `held`) the upload of what the
    learner holds. None, after the footer, when there is nothing more to show: no catalogue, or no goal
    yet when `no_goal` is given (it is said then; `{courses}` and `{providers}` are filled in)."""
    st.title(title)
    st.caption(caption)
    state = view_state()
    summary = catalog()
    if summary is None:
        footer()
        return None
    if have:
        goal, typed = goal_controls(page, state)
    else:
        goal = goal_box(page, state)
        typed = state.have if goal == state.goal else ()
    filters = filter_controls(page, state, summary)
    files = held_upload(page, expanded=page == "plan") if held else None
    if not goal and no_goal is not None:
        publish(ViewState(have=typed, filters=filters))
        st.info(no_goal.format(courses=f"{summary.active:,}", providers=len(summary.providers)))
        footer()
        return None
    return Asked(state=state, summary=summary, goal=goal, have=typed, filters=filters, held=files)


def goal_page(
    page: str, title: str, caption: str, answer: Callable[[Asked, str | None], None], *, no_goal: str
) -> None:
    """A learner's goal page from top to bottom: the header with the upload of what the learner holds,
    then `answer(asked, occupation)` in the page's answer slot (a new question starts from an empty
    one; an error the user can fix is said there), then the footer."""
    asked = goal_header(page, title, caption, held=True, no_goal=no_goal)
    if asked is None:
        return
    occupation = asked.occupation(page)
    with answer_slot(page, asked.question(occupation)):
        try:
            answer(asked, occupation)
        except api.RecommenderError as exc:
            show_user_error(str(exc))
    footer()


def goal_answer(page: str, asked: Asked, rec: api.Recommendation, *, heading: bool = True) -> None:
    """The top of every goal page's answer: the view written to the URL and the session, the occupation
    the goal resolved to (or a word that it resolved to none with confidence) and the picker of others."""
    publish(
        ViewState(goal=asked.goal, occupation=chosen_occupation_for_url(rec), have=asked.have, filters=asked.filters)
    )
    if heading and rec.chosen:
        st.subheader(f"Goal: {md(rec.chosen.label)}")
    if rec.unresolved:
        st.info("Your goal matched no occupation with confidence: pick the nearest one below.")
    occupation_picker(page, rec)


def have_matches(page: str, rec: api.Recommendation, have: tuple[str, ...], version: str) -> None:
    """What each "skill I have" counted as: the ESCO skill it matched and whether this goal requires
    it, or "not recognised"; and the goal's own skills to pick from, which always match."""
    required = {r.uri for r in rec.required}
    goal = rec.chosen.label if rec.chosen else "this goal"
    with st.expander("Skills I already have: what they counted as", expanded=bool(have)):
        if have:
            for match in cached.match_have(have, version):
                if match.skill is None:
                    line = f"{match.phrase} → not recognised as an ESCO skill"
                elif match.skill.uri in required:
                    line = f"{match.phrase} → {match.skill.label}: required for {goal}, left out of the gap"
                else:
                    line = f"{match.phrase} → {match.skill.label}: not among the skills ESCO lists for {goal}"
                st.markdown("- " + md(line))
        else:
            st.caption("Type skills above, or pick them from this goal's skills.")
        options = [r.label for r in rec.required if r.label not in have]
        pick_key = f"{page}_have_pick"
        st.multiselect(
            "Pick from this goal's skills", options, key=pick_key, on_change=_add_picked, args=(page, pick_key),
            help="ESCO's skills for this occupation, heaviest first; a pick is added to the skills you have.",
        )  # fmt: skip


def _add_picked(page: str, pick_key: str) -> None:
    # A callback: it runs before the script, the only time the have box's value may be set.
    current = split_have(st.session_state.get(f"{page}_have", ""))
    picked = st.session_state.get(pick_key) or []
    st.session_state[f"{page}_have"] = ", ".join(dict.fromkeys((*current, *picked)))
    st.session_state[pick_key] = []


HELD_FILE_TYPES = ["json", "jsonld", "jwt", "txt", "png", "svg", "csv"]
HELD_LABEL = "What I already hold: badges, certificates, courses"


def held_upload(page: str, *, expanded: bool = False) -> api.HeldSkills | None:
    """The upload of what the learner already holds (Open Badges as JSON, JWT or a baked PNG/SVG,
    LinkedIn's Certifications.csv, a list of completed courses), in an expander: the skills each file
    brings, each with where it came from, or None without files. The pages pass the skills to the API
    as `have_skills`, so they leave the gap and the stack.

    The files live only in this session's memory (Streamlit keeps uploads there) and their skills in
    its session state; nothing of them is written on the server. Their text is shown as text."""
    with st.expander(HELD_LABEL, expanded=expanded, icon=":material/workspace_premium:"):
        uploads = st.file_uploader(
            "Files", type=HELD_FILE_TYPES, accept_multiple_files=True, key=f"{page}_files",
            help="Open Badges 2.0/3.0 (JSON, JWT, or a baked PNG/SVG badge), LinkedIn's Certifications.csv, "
            "or a text file listing completed courses (URL or title, one per line). Badge signatures and "
            "proofs are not checked.",
        )  # fmt: skip
        held = _held(page, uploads or [])
        if held is not None:
            _show_held(held)
    return held


def _held(page: str, uploads: list) -> api.HeldSkills | None:
    """The uploads' skills, read once per set of files and kept in this session only."""
    key = f"_{page}_held"  # (digest of the uploads, their HeldSkills)
    if not uploads:
        st.session_state.pop(key, None)
        return None
    files = [(f.name, f.getvalue()) for f in uploads]
    digest = hashlib.sha256(b"".join(hashlib.sha256(name.encode() + data).digest() for name, data in files)).hexdigest()
    kept = st.session_state.get(key)
    if kept and kept[0] == digest:
        return kept[1]
    try:
        with st.spinner("Reading your files…"):
            held = api.held_skills(files)
    except api.RecommenderError as exc:
        show_user_error(str(exc))
        return None
    st.session_state[key] = (digest, held)
    return held


def _show_held(held: api.HeldSkills) -> None:
    st.markdown("**What you bring**")
    for problem in held.problems:
        st.warning(md(problem + "; the other files still count"), icon=":material/error:")
    st.caption(md(f"{len(held.items)} items read; {len(held.skills)} ESCO skills. Signatures and proofs not checked."))
    # Lines of text, not a table: the sources are long sentences, and text stays findable and printable.
    for skill in held.skills:
        more = f" (and {len(skill.sources) - 1} more)" if len(skill.sources) > 1 else ""
        st.markdown(f"**{md(skill.label)}** {md('— ' + skill.sources[0] + more)}")
    for source in held.unmatched:
        st.text(f"No skill found {source}")


FILTER_LABELS = {
    "free_only": "Free only",
    "with_certificate": "With certificate",
    "levels": "Level",
    "languages": "Language",
    "max_hours": "Max hours",
    "max_price": "Max price",
    "providers": "Providers",
}


def filter_controls(page: str, state: ViewState, summary: api.CatalogSummary) -> api.Filters:
    """The filters, in the sidebar; options come from the catalogue. Under them, what they hide that a
    user would not expect: courses whose source states no price."""
    f = state.filters
    levels = tuple(dict.fromkeys((*LEVELS, *summary.levels)))
    seed(f"{page}_free", f.free_only)
    seed(f"{page}_certificate", f.with_certificate)
    seed(f"{page}_levels", [v for v in f.levels if v in levels])
    seed(f"{page}_languages", [v for v in f.languages if v in summary.languages])
    seed(f"{page}_max_hours", f.max_hours)
    seed(f"{page}_max_price", f.max_price)
    seed(f"{page}_providers", [v for v in f.providers if v in summary.providers])
    with st.sidebar:
        st.subheader("Filters")
        free_only = st.toggle("Free only", key=f"{page}_free", help="Free, or free to audit.")
        note = st.empty()
        with_certificate = st.toggle("With certificate", key=f"{page}_certificate")
        chosen_levels = st.multiselect("Level", levels, key=f"{page}_levels", help=LEVEL_HELP)
        chosen_languages = st.multiselect(
            "Language", summary.languages, key=f"{page}_languages", format_func=language_text
        )
        max_hours = st.number_input("Max hours", min_value=0.0, step=5.0, key=f"{page}_max_hours")
        max_price = st.number_input(
            "Max price", min_value=0.0, step=10.0, key=f"{page}_max_price",
            help="With a certificate asked for, a course free to audit costs what its certificate costs.",
        )  # fmt: skip
        providers = st.multiselect("Providers", summary.providers, key=f"{page}_providers")
    filters = api.Filters(
        free_only=free_only,
        with_certificate=with_certificate,
        levels=tuple(chosen_levels),
        languages=tuple(chosen_languages),
        max_hours=max_hours,
        max_price=max_price,
        providers=tuple(providers),
    )
    report = cached.filter_report(filters, summary.version)
    if report.price_not_stated:
        note.caption(f"{report.price_not_stated:,} courses hidden: price not stated by their source.")
    return filters


def empty_because(filters: api.Filters, version: str) -> str:
    """Why a list is empty: the filter that empties it, named, with what dropping it would show."""
    report = cached.filter_report(filters, version)
    if report.passing:
        return "No course matches this goal under these filters."
    emptying = [e for e in report.effects if e.without]
    if not report.effects:
        return "The catalogue has no course for this goal."
    if not emptying:
        return "No course passes these filters together: " + ", ".join(FILTER_LABELS[e.name] for e in report.effects)
    best = max(emptying, key=lambda e: e.without)
    return (
        f'No course passes the filters. "{FILTER_LABELS[best.name]}" empties the list: without it '
        f"{best.without:,} courses pass."
    )


def occupation_choice(page: str, goal: str, state: ViewState) -> str | None:
    """The occupation picked for this goal (the picker's value, else the URL's), None for the best match."""
    picked = st.session_state.get(_picker_key(page, goal))
    if picked:
        return picked
    return state.occupation if goal == state.goal else None


def occupation_picker(page: str, rec: api.Recommendation) -> None:
    """The resolved occupation and its alternatives; picking one re-runs the page for it."""
    occupations_picker(page, rec.goal, rec.occupations, rec.chosen)


def occupations_picker(
    page: str, goal: str, occupations: tuple[api.Occupation, ...], chosen: api.Occupation | None
) -> None:
    if chosen is None:
        return
    options = [o.uri for o in occupations]
    if chosen.uri not in options:
        options.insert(0, chosen.uri)
    labels = {o.uri: o.label for o in (*occupations, chosen)}
    key = _picker_key(page, goal)
    seed(key, chosen.uri)
    st.selectbox(
        "Occupation", options, key=key, format_func=lambda uri: labels.get(uri, uri),
        help="The ESCO occupation your goal was matched to; pick another if it fits better.",
    )  # fmt: skip


def _picker_key(page: str, goal: str) -> str:
    return f"{page}_occupation::{goal.strip().lower()}"


def chosen_occupation_for_url(rec: api.Recommendation) -> str | None:
    """The occupation to keep in the URL: only one the user picked over the best match."""
    if rec.chosen is None or (rec.occupations and rec.chosen.uri == rec.occupations[0].uri):
        return None
    return rec.chosen.uri


def answer_slot(page: str, question: object) -> DeltaGenerator:
    """The container for what the page answers to `question` (its goal, occupation, skills and filters).

    A new question starts from an empty container, so its heading never stands over the previous
    answer's faded results while it loads. A plain `st.empty().container()` does not do that: the
    server merges the `empty` into the container that follows it at the same place, and the browser
    hands a container that replaces one of its kind the old one's children until each is overwritten.
    So two placeholders, both emptied at the top of every run, and the answer goes into the other one
    when the question changes: the browser then never gets a container where the old answer was.
    The same question (another sort order, more results) keeps its place and redraws in place.
    """
    key = f"_{page}_answer_slot"
    last, turn = st.session_state.get(key, (question, 0))
    if last != question:
        turn ^= 1
    st.session_state[key] = (question, turn)
    slots = (st.empty(), st.empty())
    return slots[turn].container()


# ---------------------------------------------------------------- the catalogue and cached API calls


NO_COURSES = "the catalogue has no courses yet: run `skillstack crawl` then `skillstack build`"


def catalog(*, need_courses: bool = True) -> api.CatalogSummary | None:
    """The published catalogue's summary, or None after showing what command fills it."""
    try:
        with st.spinner("Opening the catalogue…"):
            summary = api.catalog_summary()
    except api.RecommenderError as exc:
        show_user_error(str(exc))
        return None
    if need_courses and not summary.active:
        show_user_error(NO_COURSES)
        return None
    cached.warm_up(summary.version)
    return summary


# ---------------------------------------------------------------- courses


def course_facts(course: api.CourseResult, known: api.CourseFacts | None = None) -> str:
    """One line of a course's facts, as plain text (show it through `md`)."""
    institution = course.institution if course.institution and course.institution != course.provider else None
    facts = [
        course.provider + (f" – {institution}" if institution else ""),
        course.credential if course.credential and course.credential != "none" else "no credential",
        course.level,
        hours_text(course.hours, known),
        price_text(course, known.certificate_price if known else None),
        rating_text(course.rating, course.rating_count),
        language_text(course.in_language),
        facts_age(known.as_of) if known else None,
    ]
    return " · ".join(str(f) for f in facts if f)


def provider_link(url: str | None, provider: str) -> tuple[str, str] | None:
    """(label, url) of the way out to the provider: its course page, or only a search there."""
    link = safe_url(url)
    if not link:
        return None
    if api.is_search_url(link):
        return f"Search at {provider}", link
    return "Open at the provider", link


def course_links(course_id: str, url: str | None, provider: str = "the provider") -> None:
    left, right = st.columns(2)
    with left:
        st.page_link(nav.page("course"), label="Details", icon=":material/info:", query_params={"course": course_id})
    out = provider_link(url, provider)
    if out:
        icon = ":material/search:" if out[0].startswith("Search") else ":material/open_in_new:"
        right.link_button(md(out[0]), out[1], icon=icon)


NEW_MARK = "🆕 new since the last nightly"


def course_card(
    course: api.CourseResult,
    *,
    rank: int | None = None,
    why: str = "Why: covers ",
    known: api.CourseFacts | None = None,
    new: bool = False,
) -> None:
    """A course of a list: title, facts, why it fits, other editions, links; `new` marks one the last
    published nightly brought into the catalogue."""
    with st.container(border=True):
        title = f"**{rank}\\. {md(course.title)}**" if rank else f"**{md(course.title)}**"
        st.markdown(title + (f" {md(NEW_MARK)}" if new else ""))
        st.caption(md(course_facts(course, known)))
        if course.matched_skills:
            st.markdown(md(why + ", ".join(course.matched_skills[:8])))
        if course.also_in:
            st.caption(
                md("Also in: " + ", ".join(api.language_name(e.in_language) or e.in_language for e in course.also_in))
            )
        course_links(course.course_id, course.url, course.provider)
