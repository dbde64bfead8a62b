from crawlers.dataset_spider import CourseraDatasetSpider


class CourseraSkills2024Spider(CourseraDatasetSpider):
    """3,404 Coursera listings scraped about 2024, with the skills each one teaches.

    A course listed under several subjects appears once per subject; those rows become one item
    whose `subjects` lists them all.
    """

    name = "coursera_skills_2024"
    allowed_domains = ["raw.githubusercontent.com"]
    data_date = "2024"
    start_urls = [
        "https://raw.githubusercontent.com/clumsycoder42525/Learning_Management_System/"
        "4d7eeb30852a0cdedf0f3e60bcc259ac78cb2ee4/Coursera.csv"
    ]
    column_map = {
        "name": "Title",
        "institution": "Institution",
        "credential": "Learning Product",
        "level": "Level",
        "duration": "Duration",
        "skills_declared": "Gained Skills",
        "rating": "Rate",
        "rating_count": "Reviews",
        "subjects": "Subject",
    }
    list_fields = ("skills_declared", "subjects")
