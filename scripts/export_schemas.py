"""Write the JSON Schema of every envelope into schemas/ (commit the result)."""

from pathlib import Path

from langgraph_checkpoint_s3.envelopes import write_schemas

if __name__ == "__main__":
    for path in write_schemas(Path(__file__).resolve().parent.parent / "schemas"):
        print(path)
