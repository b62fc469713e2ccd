"""The evidence service: files proving actions are done, kept in MinIO, and their reviews."""
