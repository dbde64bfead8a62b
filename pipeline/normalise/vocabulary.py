"""The closed vocabularies of the course record: level, credential and course mode, each read from
a source's own terms ("Introductory", "Verified Certificate", "On Demand").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.normalise.scalars import _short

LEVELS = ("beginner", "intermediate", "advanced", "mixed")
COURSE_MODES = ("self-paced", "scheduled")
CREDENTIAL_KINDS = (
    "none",
    "certificate",
    "professional certificate",
    "specialization",
    "program",
    "degree",
    "badge",
    "guided project",
)


# ----------------------------------------------------------------------------------------- level

_LEVEL_WORDS = (
    # LinkedIn Learning's "General" (for every learner) only when it is the whole term: a level
    # field never says "general" otherwise, and a course title may ("General Chemistry").
    (
        "mixed",
        r"all\s+levels?|mixed|any\s+level|every\s+level|everyone|todos\s+los\s+niveles|tous\s+niveaux|^general$",
    ),
    (
        "beginner",
        r"beginners?|introductory|intro|introduction|basic|basics|elementary|novice|foundational|foundation|"
        r"entry(?:-|\s)level|starter|easy|high\s+school|principiante|b[áa]sico|iniciante|d[ée]butant|anf[äa]nger",
    ),
    ("intermediate", r"intermediate|medium|moderate|undergraduate|intermedio|interm[ée]diaire|intermedi[áa]rio"),
    (
        "advanced",
        r"advanced|expert|graduate|postgraduate|difficult|hard|avanzado|avanc[ée]|avan[çc]ado|fortgeschritten",
    ),
)
_LEVEL_PATTERNS = tuple((level, re.compile(rf"(?<!\w)(?:{words})(?!\w)")) for level, words in _LEVEL_WORDS)


def _levels_in(text: str) -> set[str]:
    low = text.casefold()
    return {level for level, pattern in _LEVEL_PATTERNS if pattern.search(low)}


def normalise_level(raw: Any) -> str | None:
    """beginner | intermediate | advanced | mixed, or None when the term is unknown.

    "Introductory", "Beginner Level", "Beginner" → beginner; "Intermediate Level" → intermediate;
    "Expert Level", "Advanced" → advanced; "All Levels", "Mixed", LinkedIn Learning's "General" →
    mixed. A span of levels ("beginner-intermediate", "Intermediate/Advanced", LinkedIn Learning's
    "Beginner + Intermediate", MS Learn ["beginner", "intermediate"]) → mixed:
    the course addresses more than one level, which is what Coursera's "Mixed" and Udemy's
    "All Levels" say too. MIT OpenCourseWare's school levels map to the nearest: "High School" →
    beginner, "Undergraduate" → intermediate, "Graduate" → advanced.
    """
    values = raw if isinstance(raw, list | tuple) else [raw]
    found: set[str] = set()
    for value in values[:20]:
        text = _short(value, 100)
        if text is not None:
            found |= _levels_in(text)
    if not found:
        return None
    if "mixed" in found or len(found) > 1:
        return "mixed"
    return found.pop()


# ------------------------------------------------------------------------------------ credential


@dataclass(frozen=True)
class Credential:
    """What finishing earns (`kind`, one of CREDENTIAL_KINDS or None if unknown) and the provider's term."""

    kind: str | None = None
    raw: str | None = None


# First match wins, so the specific terms come before the words they contain ("Professional
# Certificate" before "certificate", "MicroMasters"/"Nanodegree" before "master"/"degree").
_CREDENTIAL_RULES = (
    ("none", r"^(?:none|no|n/a)$|no\s+certificate|without\s+(?:a\s+)?certificate|not\s+included|^audit"),
    ("guided project", r"guided\s+project|^projects?$"),
    ("professional certificate", r"professional\s+certific|profcert|certificado\s+profesional"),
    ("specialization", r"speciali[sz]ation|especializaci[óo]n|spécialisation"),
    ("program", r"micro\s*masters|micro\s*bachelors|xseries|master\s*track|nanodegree|program|bootcamp"),
    (
        "degree",
        r"\bdegree|bachelor|\bmasters?\b(?!\s*class)|\bmaster[’']s|\bm\.?sc\b|\bmba\b|\bb\.?sc\b|\bph\.?d\b|"
        r"doctora|licenciatura|grado\b",
    ),
    ("badge", r"badge"),
    (
        "certificate",
        r"certific|certified|zertifikat|verified|\bhonor|statement\s+of|credential|credit|\bects\b|diploma|"
        r"^course$|^cert$",
    ),
)
_CREDENTIAL_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in _CREDENTIAL_RULES)


def normalise_credential(raw: Any) -> Credential:
    """The credential a listing leads to, from the provider's own term.

    - "COURSE"/"Course" (Coursera's certificate type / learning product) → certificate: every
      Coursera course issues a course certificate to learners who pay for it.
    - "SPECIALIZATION" → specialization; "PROFESSIONAL CERTIFICATE", "Professional Certificate
      Program" → professional certificate; "Guided Project" and Coursera's "Project" → guided project.
    - "MicroMasters", "XSeries", "MasterTrack", "Nanodegree", "... Program" → program (a sequence of
      courses, even when it counts towards a degree); "Degree", "Master of ...", "MBA" → degree.
    - "verified", "Certificate of Completion", "honor", "Statement of Participation", "ECTS" →
      certificate; "badge" → badge; "Audit Track", "No certificate" → none.
    - A bool is read as "has a certificate" (Udemy has_certificate). Missing or unknown terms give
      kind None (unknown, which is not the same as "none"); `raw` keeps the provider's term.
    """
    if isinstance(raw, bool):
        return Credential("certificate" if raw else "none", str(raw))
    values = raw if isinstance(raw, list | tuple) else [raw]
    terms = [t for t in (_short(v, 200) for v in values[:20]) if t]
    if not terms:
        return Credential()
    for term in terms:
        low = " ".join(term.casefold().split())
        for kind, pattern in _CREDENTIAL_PATTERNS:
            if pattern.search(low):
                return Credential(kind, term)
    return Credential(None, terms[0])


# ----------------------------------------------------------------------------------- course mode

_SELF_PACED = re.compile(r"self[\s_-]*paced|on[\s_-]*demand|on\s+your\s+(?:own\s+)?time|anytime|at\s+your\s+own\s+pace")
_SCHEDULED = re.compile(
    r"instructor[\s_-]*(?:led|paced)|schedul|\bcohort|\bsession|\bdated\b|\blive\b|fixed\s+dates|\bsynchronous|"
    r"start\s+date"
)


def normalise_course_mode(raw: Any) -> str | None:
    """self-paced | scheduled, or None.

    "Self-paced on your time", edX pacing_type "self_paced", Coursera "v2.ondemand", MITx Online
    availability "anytime" → self-paced; "Instructor-led on a course schedule", "instructor_paced",
    Coursera "v1.session", "dated", "cohort-based" → scheduled. A bool is read as "is self-paced"
    (MITx Online is_self_paced). Delivery modes that say nothing about pacing ("Online", "Blended")
    and texts that say both give None.
    """
    if isinstance(raw, bool):
        return "self-paced" if raw else "scheduled"
    text = _short(raw, 200)
    if text is None:
        return None
    low = text.casefold()
    self_paced, scheduled = bool(_SELF_PACED.search(low)), bool(_SCHEDULED.search(low))
    if self_paced == scheduled:
        return None
    return "self-paced" if self_paced else "scheduled"
