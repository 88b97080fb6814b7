"""`make bench`: the API under gunicorn, measured against a bare-Django floor in the same run."""
