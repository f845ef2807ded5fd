"""The edge of gongkai: the HTTP service and the command line."""
