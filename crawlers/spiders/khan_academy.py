from typing import Any

from crawlers.api_spider import JsonApiSpider

COURSE_URL = "https://www.khanacademy.org/{domain}/{subject}"


def subjects(tree: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The subjects of the topic tree (depth 2), each with the domain (depth 1) it sits in."""
    if not isinstance(tree, dict):
        return None
    return [
        {**subject, "domain": {"id": domain.get("id"), "title": domain.get("title")}}
        for domain in tree.get("children") or []
        if isinstance(domain, dict)
        for subject in domain.get("children") or []
        if isinstance(subject, dict)
    ]


class KhanAcademySpider(JsonApiSpider):
    """Khan Academy's topic tree as KA Lite published it (2015): one course per subject.

    The tree goes root → domain ("Math") → subject ("Algebra I") → topic ("Linear equations") →
    tutorial. A subject is what Khan Academy itself presents as a course, with the topics as its
    units; a domain is too broad to take on, a topic or tutorial too small to stand alone. So each
    of the 48 subjects is an item: its topics' titles are the declared skills, its path ("Math >
    Algebra I") and its numbers of topics and tutorials go to extras. The URL follows Khan
    Academy's `/<domain>/<subject>` layout and the `provider_ref` is the subject's id (ids are
    unique across the tree). Khan Academy is free and this tree is its English one.
    """

    name = "khan_academy"
    allowed_domains = ["raw.githubusercontent.com"]
    provider = "Khan Academy"
    start_urls = [
        "https://raw.githubusercontent.com/learningequality/ka-lite/27e93d166ee1ca4b417915ad2149afefe559b040/"
        "data/khan/topic_hierarchy.json"
    ]
    records_path = staticmethod(subjects)
    defaults = {"institution": "Khan Academy", "is_free": True, "in_language": "en"}
    field_map = {
        "provider_ref": "id",
        "name": "title",
        "description": "description",
        "url": lambda subject: COURSE_URL.format(domain=subject["domain"]["id"], subject=subject["id"]),
        "skills_declared": "children.title",
        "subjects": "domain.title",
    }
    extras_map = {
        "path": lambda subject: f"{subject['domain']['title']} > {subject['title']}",
        "topics": lambda subject: len(subject.get("children") or []),
        "tutorials": lambda subject: sum(len(topic.get("children") or []) for topic in subject.get("children") or []),
    }
