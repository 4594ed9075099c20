"""Payloads a hostile respondent (or a careless one) can put into any string that reaches the book.

Each carries the marker ``cbec-xss`` so a test can find it in built pages, wherever it ends up.
"""

PAYLOADS = [
    "<script>alert('cbec-xss-1')</script>",
    "<img src=x onerror=\"alert('cbec-xss-2')\">",
    "<a href=\"javascript:alert('cbec-xss-3')\">cbec-xss-3</a>",
    "```{raw} html\n<script>alert('cbec-xss-4')</script>\n```",
    "{eval-rst}`cbec-xss-5`",
    "[cbec-xss-6](javascript:alert(1)) ![cbec-xss-7](x.png)",
    "cbec-xss-8\u202egnp.exe",
    '=HYPERLINK("http://cbec-xss-9")',
]

#: What no built page may contain as markup the project did not write.
MARKER = "cbec-xss"
