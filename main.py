"""Entry point: `python main.py spec|check|write` (the Docker image runs this too)."""

from destination_milvus_zendesk.entrypoint import run

if __name__ == "__main__":
    run()
