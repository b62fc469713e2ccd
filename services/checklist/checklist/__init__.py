"""The checklist service: org units, checklist templates, submissions and their scores."""
