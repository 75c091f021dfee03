"""Submit a support case: the tutorial's Streamlit form, on top of the connector's `query` module.

    streamlit run destination_milvus_zendesk/support_form.py

Configuration: SUPPORT_FORM_CONFIG = path to the connector's config JSON; without it MILVUS_URL,
MILVUS_TOKEN and OPENAI_API_KEY (and optional MILVUS_COLLECTION), as in the tutorial.
The organization comes from the sidebar, prefilled by the `?org=<id>` query parameter (stand-in for
the customer's login), and the sidebar chooses which ticket statuses count as open (default: new).
"""

from __future__ import annotations

import os
import sys

import streamlit as st

try:
    from destination_milvus_zendesk.errors import ConnectorError
except ImportError:  # `streamlit run` puts this file's folder, not the repository, on sys.path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from destination_milvus_zendesk.errors import ConnectorError
from destination_milvus_zendesk.query import (DEFAULT_STATUSES, ZENDESK_STATUSES, QueryInputError, SupportSearch,
                                              load_config, organization_id_value)

CONFIG_PATH = os.environ.get("SUPPORT_FORM_CONFIG") or None


@st.cache_resource(show_spinner="Connecting to Milvus...")
def support_search(config_path: str | None) -> SupportSearch:
    """One connection and embedder per config, shared by every session (failures are not cached)."""
    try:
        config = load_config(config_path)
    except OSError as exc:
        raise QueryInputError(f"Cannot read the configuration file {config_path!r}: {exc.strerror}.") from None
    except ValueError as exc:
        raise QueryInputError(f"The configuration file {config_path!r} is not valid JSON ({exc}).") from None
    return SupportSearch.from_config(config)


def organization_from_url() -> int | None:
    raw = st.query_params.get("org")
    if raw is None:
        return None
    try:
        return organization_id_value(raw)
    except QueryInputError as exc:
        st.sidebar.error(f"Ignoring ?org=: {exc}")
        return None


def link_text(title: str | None) -> str:
    return str(title).replace("[", "\\[").replace("]", "\\]")


st.sidebar.header("Customer")
organization_id = st.sidebar.number_input("Organization id", value=organization_from_url(), step=1, format="%d",
                                          placeholder="e.g. 360012345678")
statuses = st.sidebar.multiselect("Ticket statuses that count as open", ZENDESK_STATUSES,
                                  default=list(DEFAULT_STATUSES))

st.title("Submit a support case")
text = st.text_area("Describe your problem")

if st.button("Submit"):
    if not text.strip():
        st.error("Please describe your problem before submitting.")
    elif organization_id is None:
        st.error("Enter your organization id in the sidebar before submitting.")
    else:
        try:
            with st.spinner("Looking for similar cases..."):
                answer = support_search(CONFIG_PATH).lookup(text, int(organization_id), statuses)
        except QueryInputError as exc:
            st.error(str(exc))
        except ConnectorError as exc:
            support_search.clear()  # reconnect on the next submit: Milvus may be back by then
            st.error(exc.message)
        except Exception as exc:  # noqa: BLE001 - never a traceback in the page
            support_search.clear()
            st.error(f"Search is unavailable right now: {type(exc).__name__}")
        else:
            if answer.duplicate:
                st.warning(f"This case seems very similar to {answer.duplicate.subject} (id #{answer.duplicate.id})")
            else:
                st.success("Submitted!")
                if answer.helpful_articles:
                    st.write("We also found some articles that might help you:")
                    st.markdown("\n".join(f"* [{link_text(a.title or a.html_url)}]({a.html_url})"
                                           for a in answer.helpful_articles))
