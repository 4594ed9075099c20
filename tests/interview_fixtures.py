"""Transcripts full of identifying details, and broken files, written into a folder for tests."""

from pathlib import Path

#: Every string here must be masked before anything reaches a table or the book.
SECRETS = [
    "张伟明",
    "张总",
    "伟明",
    "Oliver Grant",
    "Oliver",
    "Grant",
    "杭州远帆科技有限公司",
    "Bluewave Trading GmbH",
    "oliver.grant@bluewave.de",
    "https://bluewave-shop.example.com",
    "www.yuanfan.example.cn",
    "192.168.10.23",
    "+49 30 1234 5678",
    "138-1234-5678",
    "zhang.wm@yuanfan.cn",
]


def write_fixture_transcripts(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good_zh.md").write_text(
        """---
firm: 远帆科技
role: 总经理
size_class: sme
main_market: eu_na
language: zh
date: 2026-01-05
names: [张伟明]
companies: [杭州远帆科技有限公司]
---
问：张总，请介绍杭州远帆科技有限公司。
答：我是张伟明。我们做细分赛道，依托产业带小单快反，海外仓在德国。电话138-1234-5678，邮箱zhang.wm@yuanfan.cn，网站www.yuanfan.example.cn。
问：伟明，你们的合规怎么做？
答：产品认证提前做，VAT税务申报请本地机构。服务器IP是192.168.10.23。
""",
        encoding="utf-8",
    )
    (folder / "good_en.txt").write_text(
        """---
firm: Bluewave
role: CEO
size_class: large
main_market: eu_na
language: en
date: 2026-01-06
names: [Oliver Grant]
companies: [Bluewave Trading GmbH]
---
Q: Oliver, tell us about Bluewave Trading GmbH.
A: I am Oliver Grant. Our data platform and ERP connect the supply chain; call +49 30 1234 5678 or write to oliver.grant@bluewave.de. Visit https://bluewave-shop.example.com for returns and customer service.
Q: How is the team organised, Mr Grant?
A: Cross-functional teams per market, and a bonus tied to repeat purchase.
""",
        encoding="utf-8",
    )
    (folder / "gbk_zh.md").write_bytes(
        """---
firm: 甲
size_class: sme
main_market: sea
language: zh
---
采访者：你们的库存怎么管？
受访者：我们用预测模型管库存，滞销很少。
""".encode("gbk")
    )
    (folder / "no_front_matter.md").write_text("Q: hi\nA: hello\n", encoding="utf-8")
    (folder / "bad_size.md").write_text(
        "---\nfirm: X\nsize_class: huge\nmain_market: sea\nlanguage: en\n---\nQ: a\nA: b\n", encoding="utf-8"
    )
    (folder / "empty.txt").write_text("  \n", encoding="utf-8")
    (folder / "binary.md").write_bytes(b"\xff\xfe\xfa\x00\x81\x82" * 20)
    (folder / "README.md").write_text("not a transcript", encoding="utf-8")
    return folder
