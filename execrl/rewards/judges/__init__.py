"""Built-in judges. Every module here is imported on the first judge lookup and registers its kinds."""
