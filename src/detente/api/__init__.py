"""REST API shell (django-ninja): thin routes over the services, one error model, token auth."""
