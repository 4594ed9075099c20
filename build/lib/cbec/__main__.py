"""``python -m cbec`` works like the ``cbec`` command."""

from cbec.book.cli import app

if __name__ == "__main__":
    app(prog_name="cbec")
