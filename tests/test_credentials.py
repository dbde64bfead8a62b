"""What a learner holds, read from their files: the Open Badges specification's own examples (as JSON,
as a JWT, baked into PNG and SVG), a LinkedIn Certifications.csv and a course list.

The baked and signed forms are made here from the JSON examples: the PNG with Pillow's `PngInfo`
(a real PNG writer, so the chunk layout is Pillow's, not ours), the SVG and the JWT by hand as the
specification describes them.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from recommender import api, credentials
from tests.conftest import BADGES_DIR, run_skillstack

ROBOT = "ob3-skillAssertionCase.json"
TEAMWORK = "ob3-basicOpenBadgeCredential.json"


def badge(name: str) -> dict:
    return json.loads((BADGES_DIR / name).read_text(encoding="utf-8"))


def badge_bytes(name: str) -> bytes:
    return (BADGES_DIR / name).read_bytes()


def baked_png(text: str, keyword: str = "openbadgecredential") -> bytes:
    info = PngInfo()
    info.add_itxt(keyword, text)
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (20, 80, 160, 255)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def baked_svg(text: str, element: str = "credential") -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org" width="64" height="64">'
        f"<openbadges:{element}><![CDATA[{text}]]></openbadges:{element}>"
        '<rect width="64" height="64" fill="#1450a0"/></svg>'
    ).encode()


def b64url(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def jwt(payload: dict) -> str:
    """A JWS compact token as an issuer signs one; the signature is bytes no key made (it is never checked)."""
    header = {"alg": "ES256", "typ": "JWT", "kid": "https://1edtech.edu/issuers/565049#key-1"}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(b"\x01" * 64)])


def ob2_assertion() -> dict:
    """An Open Badges 2.0 assertion carrying the 3.0 robot example's achievement as its badge class."""
    achievement = badge(ROBOT)["credentialSubject"]["achievement"]
    return {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "https://example.com/assertions/robot-1",
        "recipient": {"type": "email", "hashed": False, "identity": "learner@example.com"},
        "issuedOn": "2022-07-01T00:00:00Z",
        "verification": {"type": "hosted"},
        "badge": {
            "type": "BadgeClass",
            "id": achievement["id"],
            "name": achievement["name"],
            "description": achievement["description"],
            "criteria": achievement["criteria"],
            "issuer": {"type": "Profile", "id": "https://example.com/issuers/123767", "name": "Example Industry Group"},
            "alignment": [{k: v for k, v in a.items() if k.startswith("target")} for a in achievement["alignment"]],
        },
    }


# ---------------------------------------------------------------- parsing (no catalogue)


def test_every_specification_example_is_read_with_its_name_issuer_and_alignments():
    files = [(p.name, p.read_bytes()) for p in sorted(BADGES_DIR.glob("ob3-*.json"))]
    result = credentials.read_files(files)
    assert result.problems == ()
    by_file = {i.file: i for i in result.items}
    assert len(by_file) == 6
    robot = by_file[ROBOT]
    assert robot.name == "Robot Programming Skill Credential"
    assert robot.achievement == "Robot Programming"
    assert robot.issuer == "1EdTech University"
    assert robot.creator == "Example Industry Group"
    assert robot.format == "Open Badges 3.0 JSON"
    assert [a.target_name for a in robot.alignments] == ["Robot Programming"]
    assert robot.criteria.startswith("Learners must present source code")
    assert robot.source().startswith("from badge 'Robot Programming Skill Credential', issued by 1EdTech University")
    ce = by_file["ob3-achievementAlignmentCe.json"]
    assert ce.alignments[0].target_url == "https://credentialfinder.org/credential/20229/Requirements_Analysis"
    assert by_file[TEAMWORK].name == "Teamwork Badge"
    assert by_file[TEAMWORK].issuer == "Example Corp"


def test_a_jwt_is_decoded_and_says_its_signature_was_not_checked():
    token = jwt(badge(ROBOT))
    [item] = credentials.read_file("robot.jwt", token.encode()).items
    assert item.name == "Robot Programming Skill Credential"
    assert item.checked == "signature not checked"
    assert "signature not checked" in item.format
    # the older VC-JWT shape: the credential in a `vc` claim
    [older] = credentials.read_file("robot-vc.jwt", jwt({"iss": "x", "vc": badge(TEAMWORK)}).encode()).items
    assert older.name == "Teamwork Badge"


@pytest.mark.parametrize(
    ("make", "fmt"),
    [
        (lambda text: baked_png(text), "Open Badges 3.0 in a PNG"),
        (lambda text: baked_svg(text), "Open Badges 3.0 in an SVG"),
        (lambda text: baked_png(jwt(json.loads(text))), "Open Badges 3.0 JWT in a PNG, signature not checked"),
    ],
)
def test_a_baked_badge_gives_the_credential_inside(make, fmt):
    [item] = credentials.read_file("robot-badge", make(badge_bytes(ROBOT).decode())).items
    assert item.name == "Robot Programming Skill Credential"
    assert item.format == fmt
    assert [a.target_name for a in item.alignments] == ["Robot Programming"]


def test_open_badges_2_assertions_baked_the_2_0_way_are_read():
    text = json.dumps(ob2_assertion())
    for data in (baked_png(text, keyword="openbadges"), baked_svg(text, element="assertion"), text.encode()):
        [item] = credentials.read_file("ob2", data).items
        assert item.format.startswith("Open Badges 2.0")
        assert item.name == "Robot Programming"
        assert item.issuer == "Example Industry Group"
        assert item.alignments[0].target_name == "Robot Programming"


def test_bad_files_each_get_one_line_and_the_rest_still_count():
    unknown = {**badge(TEAMWORK), "@context": ["https://www.w3.org/2018/credentials/v1", "https://example.org/v9"]}
    unknown.pop("type")
    files = [
        ("notes.json", b"I finished a course on Excel, honest"),
        ("unknown.json", json.dumps(unknown).encode()),
        ("huge.png", credentials.PNG_SIGNATURE + b"\0" * (50 * 1024 * 1024)),
        ("plain.png", _plain_png()),
        ("hosted.svg", baked_svg("https://example.com/assertions/1", element="assertion")),
        (TEAMWORK, badge_bytes(TEAMWORK)),
    ]
    result = credentials.read_files(files)
    assert [i.name for i in result.items] == ["Teamwork Badge"]
    lines = {p.file: p.line() for p in result.problems}
    assert lines["notes.json"].startswith("notes.json: not JSON (Expecting value at line 1, column 1)")
    assert "unknown credential version (context https://www.w3.org/2018/credentials/v1" in lines["unknown.json"]
    assert lines["huge.png"] == "huge.png: 52.4 MB is too large; files up to 5 MB are read"
    assert "a PNG without a baked credential" in lines["plain.png"]
    assert "only links its assertion" in lines["hosted.svg"]
    assert all("\n" not in line for line in lines.values())


def _plain_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    return out.getvalue()


def test_a_linkedin_export_and_a_course_list_become_items():
    csv_text = (
        "Name,Url,Authority,Started On,Finished On,License Number\n"
        "Google Data Analytics,https://www.coursera.org/professional-certificates/google-data-analytics,"
        "Coursera,Mar 2024,,ABC123\n"
        ",,,,,\n"
    )
    result = credentials.read_file("Certifications.csv", csv_text.encode())
    [item] = result.items
    assert (item.kind, item.name, item.issuer, item.format) == (
        "certification",
        "Google Data Analytics",
        "Coursera",
        "LinkedIn Certifications.csv",
    )
    assert item.url == "https://www.coursera.org/professional-certificates/google-data-analytics"
    assert [p.message for p in result.problems] == ["line 3: no Name; skipped"]
    listed = credentials.read_file("done.txt", b"https://www.udemy.com/course/x/\nExcel Basics\n\n").items
    assert [(i.kind, i.url) for i in listed] == [("course", "https://www.udemy.com/course/x/"), ("course", None)]


# ---------------------------------------------------------------- into skills, on the real catalogue


@pytest.mark.slow
def test_badges_bring_skills_with_where_each_came_from(catalog_home: Path):
    held = api.held_skills([(ROBOT, badge_bytes(ROBOT)), (TEAMWORK, badge_bytes(TEAMWORK))])
    labels = {s.label: s for s in held.skills}
    assert "robotics" in labels
    [source] = [s for s in labels["robotics"].sources if "alignment" in s]
    assert source.startswith("from badge 'Robot Programming Skill Credential', issued by 1EdTech University")
    assert source.endswith("read in its alignment 'Robot Programming'")
    assert "teamwork principles" in labels
    assert held.problems == ()


@pytest.mark.slow
def test_an_esco_alignment_maps_directly_and_a_listed_course_brings_its_skills(catalog_home: Path):
    eng = api.engine()
    robotics = eng.skill_by_label["robotics"]
    aligned = badge(TEAMWORK)
    aligned["credentialSubject"]["achievement"]["alignment"] = [
        {"type": ["Alignment"], "targetName": "Robotics", "targetUrl": robotics.replace("http://", "https://")}
    ]
    # a course of the catalogue, listed by title with its provider as LinkedIn's Authority
    row = int((eng.accepted > 0).getnnz(axis=1).argmax())
    title, provider = eng.courses["name"].array[row], eng.courses["provider"].array[row]
    linked = _linked(row)
    csv_text = f'Name,Url,Authority,Started On,Finished On,License Number\n"{title}",,{provider},,,\n'
    held = api.held_skills([("aligned.json", json.dumps(aligned).encode()), ("Certifications.csv", csv_text.encode())])
    by_uri = {s.uri: s for s in held.skills}
    assert by_uri[robotics].score == 1.0
    assert by_uri[robotics].sources[0].endswith("aligned to ESCO")
    assert linked <= set(by_uri)
    some = by_uri[next(iter(linked))]
    assert any(f"course '{title}' ({provider}), matched by title and {provider}" in s for s in some.sources)


@pytest.mark.slow
def test_the_gap_and_the_stack_leave_held_skills_out(catalog_home: Path):
    goal = "data analyst"
    plain = api.skill_gap(goal)
    target = next(s for s in plain.skills if s.stack_step is not None)
    row = next(i for i in range(len(api.engine().courses)) if target.uri in _linked(i))
    csv_text = "Name,Url,Authority\n" + f'"x",{api.engine().courses["url"].array[row]},x\n'
    held = api.held_skills([("Certifications.csv", csv_text.encode())])
    assert target.uri in {s.uri for s in held.skills}
    gap = api.skill_gap(goal, have_skills=held.skills)
    mine = next(s for s in gap.skills if s.uri == target.uri)
    assert mine.have
    assert mine.stack_step is None
    assert mine.have_from[0].startswith("from certification 'x', issued by x")
    closed = {label for step in gap.recommendation.stack.steps for label in step.closes}
    assert target.label not in closed
    assert target.uri in {h.uri for h in gap.recommendation.held}


def _linked(row: int) -> set[str]:
    eng = api.engine()
    links = eng.accepted[row]
    return {eng.skill_uris[int(c)] for c, score in zip(links.indices, links.data, strict=True) if score > 0}


@pytest.mark.slow
def test_the_cli_takes_have_files_and_names_a_bad_one(built_home: Path, tmp_path: Path):
    bad = tmp_path / "notes.json"
    bad.write_text("not json", encoding="utf-8")
    png = tmp_path / "robot.png"
    png.write_bytes(baked_png(badge_bytes(ROBOT).decode()))
    result = run_skillstack(
        built_home, "gap", "data analyst", "--json", "--have-file", str(png), "--have-file", str(bad)
    )
    assert f"{bad}: not JSON (Expecting value at line 1, column 1); the other files still count" in result.stderr
    answer = json.loads(result.stdout)
    assert answer["occupation"] == "data analyst"
    held = {s["label"]: s for s in answer["held"]["skills"]}
    assert "robotics" in held
    assert held["robotics"]["sources"][0].startswith("from badge 'Robot Programming Skill Credential'")
    text = run_skillstack(built_home, "recommend", "data analyst", "--k", "3", "--have-file", str(png)).stdout
    assert "From your files (1 items; signatures and proofs not checked):" in text
    assert "robotics — from badge 'Robot Programming Skill Credential'" in text
