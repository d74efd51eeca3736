from newsbrief.service.domain import Article
from newsbrief.service.intake.html import cap_attributes, extract_html, headline_of
from newsbrief.service.intake.main_text import main_text
from newsbrief.service.settings import IntakeSettings


def _intake_text(html: str) -> str:
    return main_text(Article(html=html), IntakeSettings()).text


PAGE = """<!doctype html>
<html><head>
<title>Flood plan approved | Example News</title>
<meta property="og:title" content="Council approves flood plan">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<script>var tracking = "Buy now";</script><style>p { color: red }</style>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<div class="share-bar">Share on Facebook</div>
<article>
  <h1>Council approves flood plan</h1>
  <p>The city council approved a new flood defence plan on Tuesday after months of debate.</p>
  <figure><img src="x.jpg"><figcaption>The river in 2019. Photo: Reuters</figcaption></figure>
  <p>The plan will raise the river walls by two metres &amp; build three pumping stations.</p>
  <div class="ad-slot">Advertisement: cheap flights</div>
  <h2>What residents say</h2>
  <blockquote>We have waited years for this, said one resident of the riverside.</blockquote>
  <ul><li>Work starts in spring.</li><li>It ends within four years.</li></ul>
  <aside class="related">Related: Council elections next year</aside>
  <div id="comments"><p>Great news, first comment!</p></div>
</article>
<footer><p>Copyright Example News</p></footer>
</body></html>"""


def test_main_text_without_chrome() -> None:
    text = _intake_text(PAGE)
    assert text.split("\n\n") == [
        "The city council approved a new flood defence plan on Tuesday after months of debate.",
        "The plan will raise the river walls by two metres & build three pumping stations.",
        "What residents say",
        "We have waited years for this, said one resident of the riverside.",
        "- Work starts in spring.",
        "- It ends within four years.",
    ]
    for junk in ("Home", "Share", "Photo", "Advertisement", "Related", "comment", "Copyright"):
        assert junk not in text
    assert "tracking" not in text


def test_metadata() -> None:
    page = extract_html(PAGE)
    assert page.title == "Council approves flood plan"
    assert page.byline == "Jane Doe"
    assert page.date == "2024-03-05T10:00:00Z"


def test_densest_container_without_article_and_fallback_metadata() -> None:
    html = """<html><head><title>Harga minyak</title></head><body>
    <div class="menu"><p>Utama</p></div>
    <div class="content">
      <h1>Harga minyak kekal</h1>
      <a rel="author" href="/p/ali">Ali Ahmad</a> <time datetime="2024-01-02">2 Jan</time>
      <div class="body">
        <p>Kerajaan mengumumkan bahawa harga minyak akan dikekalkan sehingga hujung tahun.</p>
        <p>Menteri Kewangan berkata keputusan itu dibuat selepas mesyuarat kabinet.</p>
        <p>Langkah tersebut dijangka membantu rakyat yang terjejas akibat kos sara hidup.</p>
      </div>
    </div>
    <div class="newsletter"><p>Langgan surat berita kami untuk berita terkini setiap hari.</p></div>
    </body></html>"""
    page = extract_html(html)
    assert page.title == "Harga minyak kekal"
    assert page.byline == "Ali Ahmad"
    assert page.date == "2024-01-02"
    text = _intake_text(html)
    assert text.startswith("Kerajaan mengumumkan")
    assert "Langgan" not in text and "Utama" not in text
    assert len(text.split("\n\n")) == 3


def test_text_between_line_breaks_and_broken_markup() -> None:
    html = (
        "<html><body><div id='text'>첫 번째 문단이다.<br><br>두 번째 문단이다.<br>"
        "<p>unclosed paragraph one<p>unclosed paragraph two</div></body></html>"
    )
    page = extract_html(html)
    assert page.text.split("\n\n") == [
        "첫 번째 문단이다.",
        "두 번째 문단이다.",
        "unclosed paragraph one",
        "unclosed paragraph two",
    ]


def test_empty_page() -> None:
    page = extract_html("")
    assert page.text == "" and page.paragraphs == 0 and page.title == ""


def test_lists_of_links_and_hidden_elements_are_dropped() -> None:
    body = "".join(
        f"<p>Paragraph {i} of the story says something long enough to be article text.</p>"
        for i in range(6)
    )
    html = f"""<html><body><article><h1>Story</h1>{body}
    <h4>More:</h4>
    <ul><li><a href="/a">Afghan talks resume in Doha</a></li>
        <li><a href="/b">China invites Taliban officials</a></li></ul>
    <div style="display: none">191119052250266</div>
    <ul><li>Work starts in spring.</li><li>It ends within four years.</li></ul>
    </article></body></html>"""
    text = _intake_text(html)
    assert "Doha" not in text and "Taliban" not in text
    assert "191119052250266" not in text
    assert "Work starts in spring." in text  # a list of prose stays


def test_headline_without_the_site_name() -> None:
    assert headline_of({}, "", "Council approves flood plan | Example News") == (
        "Council approves flood plan"
    )
    meta = {"og:title": "Flood plan - Example News", "og:site_name": "Example News"}
    assert headline_of(meta, "", "") == "Flood plan"
    # a section label or a site name as og:title gives way to the article's <h1>
    assert headline_of(
        {"og:title": "Arts"}, "Musical version of Cry-Baby comes to Broadway", ""
    ) == ("Musical version of Cry-Baby comes to Broadway")
    assert headline_of({}, "", "") == ""


def test_page_without_main_text_is_not_refused() -> None:
    html = "<html><body><div>Short note.</div><div>Another line of the page.</div></body></html>"
    result = main_text(Article(html=html), IntakeSettings())
    assert "Short note." in result.text


def test_a_tag_keeps_its_first_attributes_and_the_page_its_text() -> None:
    many = " ".join(f'a{i}="v{i}"' for i in range(10))
    page = f"<html><body><div {many} >{PAGE}</div><p id=x class=y>tail</p></body></html>"
    capped = cap_attributes(page, 3)
    assert capped == page.replace(many, 'a0="v0" a1="v1" a2="v2"', 1)
    assert cap_attributes(page, 10) == page  # at the limit: unchanged
    assert extract_html(page, max_tag_attributes=3) == extract_html(page)


def test_attribute_values_and_raw_text_are_not_taken_for_tags() -> None:
    # ">" and "<" inside quoted values, a value after a value without a space, slashes
    tag = """<img a=">" b='<p x y z>' c="1"d=2 /e f=g>"""
    assert cap_attributes(tag + "<p>text</p>", 6) == tag + "<p>text</p>"
    assert cap_attributes(tag, 2) == """<img a=">" b='<p x y z>'>"""
    script = "<script>if (a <b c d e f g) {}</script><style>a <b c d e f></style>"
    assert cap_attributes(script + "<!-- <i a b c d e f> -->", 2) == (
        script + "<!-- <i a b c d e f> -->"
    )
    assert cap_attributes("<p a b c d e f>", 2) == "<p a b>"
