"""The Lambda layers the functions need, built from pinned requirements (see README.md)."""
