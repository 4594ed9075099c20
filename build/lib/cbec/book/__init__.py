"""The book: figures, generated pages, safe display, the pipeline and the command line."""
