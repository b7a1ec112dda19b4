"""Project configuration: settings from the environment, URL routing, WSGI entry point."""
