"""Settings -> API Settings: the tenant admins' web pages for API tokens, and those admins."""
