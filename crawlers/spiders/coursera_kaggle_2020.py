from crawlers.dataset_spider import CourseraDatasetSpider


class CourseraKaggle2020Spider(CourseraDatasetSpider):
    """891 Coursera listings scraped in 2020 (Kaggle "coursera-course-dataset").

    Enrolment counts are abbreviated as the site showed them ("5.3k"); the unnamed first column
    (the dataset's row index) is kept in `extras` as `column_1`.
    """

    name = "coursera_kaggle_2020"
    allowed_domains = ["raw.githubusercontent.com"]
    data_date = "2020"
    start_urls = [
        "https://raw.githubusercontent.com/ShahPreksha1005/course-rating-prediction/"
        "5bc960f052e29d74aac12e9a63f1db50cf5a5f21/coursea_data.csv"
    ]
    column_map = {
        "name": "course_title",
        "institution": "course_organization",
        "credential": "course_Certificate_type",
        "rating": "course_rating",
        "level": "course_difficulty",
        "enrollments": "course_students_enrolled",
    }
