from crawlers.api_spider import JsonApiSpider


class MitSloanSpider(JsonApiSpider):
    """MIT Sloan Executive Education's course feed: one JSON list of courses.

    `Topics` is one "Area: Topic" string ("Business: Digital Business/IT"), kept whole as the only
    declared skill. `Certification_Type` names the Executive Certificate track a course counts
    towards ("Digital Business", "Management and Leadership") and is the raw `credential`. The
    mirror holds the real feed as MIT Open Learning's tests keep it: 99 courses.
    """

    name = "mit_sloan"
    allowed_domains = ["raw.githubusercontent.com"]
    provider = "MIT Sloan Executive Education"
    start_urls = [
        "https://raw.githubusercontent.com/mitodl/mit-learn/2f304af0399575f72c5a6b8231fb16b4c4fd6078/"
        "test_json/test_sloan_courses.json"
    ]
    defaults = {"institution": "MIT Sloan School of Management"}
    field_map = {
        "provider_ref": "Course_Id",
        "name": "Title",
        "description": "Description",
        "url": "URL",
        "skills_declared": "Topics",
        "credential": "Certification_Type",
        "date_modified": "SourceLastModifiedDate",
    }
    extras_map = {
        "created": "SourceCreateDate",
        "brochure": "BrochureLink",
        "image": "Image_Src",
    }
