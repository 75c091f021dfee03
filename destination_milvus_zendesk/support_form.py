"""The support form's documented entry point:

    streamlit run destination_milvus_zendesk/support_form.py [-- --tutorial]

Streamlit runs this file as a script on every interaction; the form lives in support/form.py.
"""

from __future__ import annotations

import os
import sys

try:
    from destination_milvus_zendesk.support.form import main
except ImportError:  # `streamlit run` puts this file's folder, not the repository, on sys.path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from destination_milvus_zendesk.support.form import main

main()
