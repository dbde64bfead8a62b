"""What every page shares: the attribution footer and the catalogue-missing notice."""

import streamlit as st

ATTRIBUTION = (
    "Skills and occupations: this service uses the ESCO classification of the European Commission (ESCO v1.1.1). "
    "This product includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment "
    "and Training Administration (USDOL/ETA), used under the CC BY 4.0 license (converted in format); "
    "O*NET® is a trademark of USDOL/ETA."
)


def footer() -> None:
    st.divider()
    st.caption(ATTRIBUTION)


def show_user_error(message: str) -> None:
    # Errors from the recommender already say which command fixes them.
    st.warning(message)
