"""The one item every spider yields.

Values are typed but raw: the price text, the duration text, the provider's own level and
credential terms. Normalising them is the pipeline's job (pipeline/normalise/). Anything a
source offers beyond these fields goes into `extras`.
"""

import scrapy


class Course(scrapy.Item):
    # identity
    source = scrapy.Field()  # spider name; set by the pipeline when the spider did not
    provider_ref = scrapy.Field()  # the provider's own id or slug; id = "<source>/<provider_ref>"
    id = scrapy.Field()
    url = scrapy.Field()
    # what it is
    name = scrapy.Field()
    description = scrapy.Field()  # may hold HTML; cleaned by the pipeline
    provider = scrapy.Field()  # platform: Coursera, edX, Udemy...
    institution = scrapy.Field()  # university or company
    in_language = scrapy.Field()  # as the source says it: "English", "en", ["en", "fr"]
    level = scrapy.Field()  # raw: "Introductory", "All Levels"...
    duration = scrapy.Field()  # raw text: "2–3 hours per week", "PT4H30M"...
    weeks = scrapy.Field()  # raw length text when given apart from effort: "6 Weeks"
    hours = scrapy.Field()  # a number of hours when the source gives one
    course_mode = scrapy.Field()  # raw: "Self-paced on your time"
    credential = scrapy.Field()  # raw term: "Professional Certificate", "SPECIALIZATION"
    # offers
    price = scrapy.Field()  # raw: 49, "FREE-Add a Verified Certificate for $49 USD"
    currency = scrapy.Field()
    is_free = scrapy.Field()  # bool when the source states it
    # quality
    rating = scrapy.Field()
    rating_count = scrapy.Field()
    enrollments = scrapy.Field()  # raw: "5.3k", 124980
    # topics
    skills_declared = scrapy.Field()  # list of the provider's own skill tags
    subjects = scrapy.Field()  # list of subject/category names
    date_modified = scrapy.Field()  # as given; drives change-driven re-crawls
    extras = scrapy.Field()  # dict of anything else
