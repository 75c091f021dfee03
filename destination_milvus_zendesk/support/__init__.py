"""The support form's lookups and how they are told, shared by the CLI (query.py), the Streamlit form
(support_form.py) and the demo.

inputs (what a person types) -> search (candidates from Milvus, built with filters) -> decision (the
verdicts, from identifiers, terms and the dense distance, with the collection's rule for the
embedding model, which calibration fits and stores) -> answer (the data, and its one presentation
for the CLI and the form). settings: where the config comes from.
"""
