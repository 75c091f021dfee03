"""The support form's lookups and how they are told, shared by the CLI (query.py), the Streamlit form
(support_form.py) and the demo.

inputs (what a person types) -> search (candidates from Milvus, filters) -> decision (does a hit
count?) -> answer (the data, and its one rendering for the CLI and the form). settings: where the
config comes from.
"""
