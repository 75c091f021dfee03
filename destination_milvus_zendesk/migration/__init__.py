"""`migrate`: copy a collection (typically the tutorial's hand-made one) into one the connector
creates, with its stored vectors and metadata, so that nothing is embedded again.

rows.py      a source row as the connector would have written it into the new collection (pure)
progress.py  how far a copy got, kept as a property of the new collection (pure)
copy.py      the copy itself: source and target stores, pages by key, resume, verification
shape.py     which collections scan every row on each sync and lookup, and the advice `check` and
             the query CLI give about them
"""
