"""The Chinese pages speak Chinese and show names, never codes (issue 12, "Pages").

The inbox, task, instance and start pages (with the route preview), and a record list and detail
for loans and companies, are drawn in zh for the demo people. A page fails on any English word of
the UI's own (a word of 3+ letters in text or in a placeholder, an aria-label or a confirmation)
and on a raw code — a credit code, a user name, an org unit's or a role's code — shown as the text
people read where a name exists. A code may stand as secondary detail: inside a `title`, or in an
element of class `code` (small grey text beside the name)."""
from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from runtime.auth.org import OrgTree
from runtime.records.service import Records

from .conftest import signed_in

FORM = {"credit_type": "new", "amount": Decimal("800000000"), "term_months": 12, "products": ["working_capital"],
        "purpose": "营运资金", "guarantee_mode": "credit"}
UI_WORDS = {"Approve", "Reject", "Submit", "Inbox", "Timeline", "Status", "Return", "Transfer", "Delegate",
            "Comment", "Complete", "Claim", "Withdraw", "Cancel", "Started", "Step", "Due", "Open", "Search",
            "Save", "Edit", "Delete", "Records", "Route", "Veto", "Countersign", "Done", "Finished", "Running"}
ALLOWED = {"Banyan", "XLSX", "CSV", "PDF", "English", "UTC", "API"}     # the brand, file formats, the switch
SECONDARY = "code"                                   # the class of a code shown beside its name
CHECKED_ATTRS = ("placeholder", "aria-label", "data-confirm", "alt")
CREDIT_CODE = re.compile(r"\b[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\b")
TOKEN = re.compile(r"[A-Za-z0-9_]+")
READ_ONLY_REFS: set[str] = set()        # read-only references show their names too (forms/views.py)


class Texts(HTMLParser):
    """The text people read on a page: (text, the classes around it) outside scripts, styles and
    elements of the secondary-detail class; plus the attributes people read."""
    VOID = {"meta", "link", "img", "input", "br", "hr", "source", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []          # (tag, hidden from the reader's primary text)
        self.texts: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        for name in CHECKED_ATTRS:
            if a.get(name):
                self.attrs.append(a[name])
        if tag in self.VOID:
            return
        inside = bool(self.stack and self.stack[-1][1])
        secondary = tag in ("script", "style", "title") or SECONDARY in (a.get("class") or "").split() or \
            (tag == "output" and a.get("id") in READ_ONLY_REFS)
        self.stack.append((tag, inside or secondary))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not (self.stack and self.stack[-1][1]):
            self.texts.append(data.strip())


def problems_of(html: str, codes: set[str], allowed_data: set[str] = frozenset()) -> list[str]:
    p = Texts()
    p.feed(html)
    out = []
    for text in p.texts + p.attrs:
        for token in TOKEN.findall(text):
            if token in allowed_data:
                continue
            if token in codes or CREDIT_CODE.fullmatch(token):
                out.append(f"a code as the text people read: {token!r} in {text!r}")
            elif re.fullmatch(r"[A-Za-z]{3,}", token) and token not in ALLOWED:
                out.append(f"an English word: {token!r} in {text!r}" + (" (the UI's own)" if token in UI_WORDS else ""))
    return out


@pytest.fixture(scope="module")
def codes(engine) -> set[str]:
    """User names (of people who have a name), org unit and role codes."""
    records = Records(engine)
    tree = OrgTree(records.live.bundle)
    with engine.connect() as conn:
        import sqlalchemy as sa

        from runtime.auth.tables import people
        users = {n for n, d in conn.execute(sa.select(people.c.name, people.c.display_name)).all() if d and d != n}
    return users | set(tree.units) | set(tree.roles)


@pytest.fixture(scope="module")
def journey(app, engine) -> dict:
    """Two applications of rm_sh_01: one at the document review (刘敏), one at the committee."""
    service = app.state.flow_pages.service
    records = Records(engine)
    group = records.query("group", {"lead_branch": "sh_branch"}, limit=1).items[0]
    members = records.query("company", {"group": group["code"]}, limit=2).items
    form = {**FORM, "sub_limits": [{"borrower": m["credit_code"], "amount": Decimal("100000000"), "guaranteed": False}
                                for m in members]}
    first = service.start("group_credit_approval", actor="rm_sh_01", subject=group["code"], form=form)
    second = service.start("group_credit_approval", actor="rm_sh_01", subject=group["code"], form=form)
    fields = {"document_review": {"review_opinion": "资料齐全", "reviewer": "rm_sh_01"},
              "risk_assessment": {"risk_rating": "medium", "risk_opinion": "风险可控"}}
    view = second
    service.act(view["id"], "cc", actor="rm_sh_01", users=["co_sh"])
    while not any(t["node"] == "committee" for t in view["tasks"]):
        t = view["tasks"][0]
        action = "approve" if t["node"] not in fields else "complete"
        who = t["assignee"] or t["candidates"][0]        # a pool task when another test added a colleague
        view = service.act(view["id"], action, actor=who, task=t["id"], fields=fields.get(t["node"]),
                           comment="同意")
    return {"first": first, "second": view, "group": group["code"]}


def check(page, codes, allowed_data=frozenset()) -> None:
    assert page.status_code == 200, page.text[:500]
    found = problems_of(page.text, codes, allowed_data)
    assert not found, "\n".join(found[:20])


def test_the_approval_pages_in_zh_show_names_and_no_english(app, journey, codes):
    rm, co = signed_in(app, "rm_sh_01"), signed_in(app, "co_sh")
    first, second = journey["first"], journey["second"]
    doc_task = next(t["id"] for t in first["tasks"] if t["node"] == "document_review")
    committee = next(t for t in second["tasks"] if t["node"] == "committee")
    member = signed_in(app, committee["assignee"])
    for client, url in [(rm, "/ui/inbox"), (rm, "/ui/inbox?box=started"), (co, "/ui/inbox"), (co, "/ui/inbox?box=cc"),
                        (rm, f"/ui/tasks/{doc_task}"), (co, f"/ui/tasks/{doc_task}"),
                        (member, f"/ui/tasks/{committee['id']}"), (member, "/ui/inbox"),
                        (rm, f"/ui/flow-instances/{first['id']}"), (rm, f"/ui/flow-instances/{second['id']}"),
                        (rm, "/ui/start"), (rm, f"/ui/start/group_credit_approval?subject={journey['group']}"),
                        (rm, "/ui/")]:
        check(client.get(url), codes)
    page = member.get(f"/ui/tasks/{committee['id']}").text
    assert "首席风险官" in page or "chief_risk_officer" not in page          # the veto role by its label


def test_the_instance_timeline_names_people_in_its_details(app, journey):
    rm = signed_in(app, "rm_sh_01")
    page = rm.get(f"/ui/flow-instances/{journey['second']['id']}").text
    timeline = page.split('class="grid compact timeline"')[1].split("</table>")[0]
    assert "刘敏" in timeline and "co_sh" not in re.sub(r'title="[^"]*"', "", timeline)     # cc'd to 刘敏


def test_the_route_preview_names_the_approvers_readably_for_any_draft(app, journey, codes):
    rm = signed_in(app, "rm_sh_01")
    url = f"/ui/start/group_credit_approval?subject={journey['group']}"
    page = rm.get(url).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    base = {"csrf_token": token, "_request": "a1b2c3d4e5", "subject": journey["group"], "_action": "preview"}
    drafts = [{}, {"amount": "8亿", "credit_type": "new"}, {"amount": "八个亿"}, {"amount": "8亿"},
              {"credit_type": "renewal"}, {"sub_limits.0.borrower": "no-such-company", "sub_limits.0.amount": "x"},
              {"urgent": "true"}, {"amount": "-1"}, {"term_months": "abc", "amount": "1e400"}]
    for draft in drafts:
        r = rm.post("/ui/start/group_credit_approval", data={**base, **draft})
        check(r, codes, allowed_data={"no", "company"})    # what the person typed is shown back as typed
        preview = r.text.split('id="route-preview"')[1].split("</aside>")[0]
        assert 'class="who"' not in preview        # .who is the top bar's white text: white on white here
    full = rm.post("/ui/start/group_credit_approval", data={**base, "amount": "8亿", "credit_type": "new"}).text
    preview = full.split('id="route-preview"')[1].split("</aside>")[0]
    assert "刘敏" in preview and 'class="approvers"' in preview      # the document review's credit officer


@pytest.mark.parametrize("entity", ["loan", "company"])
def test_record_lists_and_details_show_names_with_codes_as_detail(rm, engine, codes, entity):
    listing = rm.get(f"/ui/e/{entity}")
    check(listing, codes)
    rid = re.search(rf'href="/ui/e/{entity}/(\d+)"', listing.text).group(1)
    own = Records(engine).get(entity, int(rid))
    key = own[Records(engine).live.entity(entity).key]
    page = rm.get(f"/ui/e/{entity}/{rid}")
    # its own code, under its label; the data was loaded by the operator "test" (a login, not a person)
    check(page, codes, allowed_data={str(key), "test"})
    history = page.text.split('id="history"')[1].split("</section>")[0]
    assert "上海分行" in history                                   # the branch changed to, by its name


def test_a_loan_list_shows_the_borrowers_name_and_a_record_page_the_branch_name(rm, engine):
    records = Records(engine)
    listing = rm.get("/ui/e/loan").text
    rid = re.search(r'href="/ui/e/loan/(\d+)"', listing).group(1)
    loan = records.get("loan", int(rid))
    borrower = records.find("company", loan["borrower"])
    row = listing.split(f'href="/ui/e/loan/{rid}"')[1].split("</tr>")[0]
    assert borrower["name"] in row and f'title="{loan["borrower"]}"' in row
    heads = re.findall(r'<th scope="col"[^>]*><a [^>]*>([^<]+)<', listing.split("</thead>")[0])
    assert len(heads) == len(set(heads))                       # each column once (借据号 is key and name)
    company = rm.get(f"/ui/e/company/{borrower['id']}").text
    assert "上海分行" in company and re.search(r'<small class="code">sh_branch</small>', company)


def test_names_are_read_set_based_not_per_row(app, engine, monkeypatch):
    """A list page asks for the names of its references once per referenced entity, whatever its length."""
    import runtime.records.listing as names
    calls = []
    real = names.record_labels
    monkeypatch.setattr(names, "record_labels", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    rm = signed_in(app, "rm_sh_01")
    assert rm.get("/ui/e/loan").status_code == 200
    assert sorted(calls) == sorted(set(calls)) and "company" in calls


def test_every_timeline_event_the_engine_emits_has_words():
    from pathlib import Path

    from runtime.web.flow_text import WORDS
    root = Path(__file__).resolve().parents[2]
    kinds = set()
    for path in list((root / "engine" / "flow").glob("*.py")) + list((root / "runtime" / "flows").glob("*.py")):
        kinds |= set(re.findall(r'\.event\(\s*"(\w+)"', path.read_text()))
        kinds |= set(re.findall(r'Event\(\s*"(\w+)"', path.read_text()))
    kinds |= {"approve", "reject", "complete", "finished", "cancelled"}      # verdicts, and how work.finish ends
    assert {"back_to_adder", "veto_holders_added", "initiator_replaced"} <= kinds
    missing = sorted(k for k in kinds if f"ev_{k}" not in WORDS)
    assert not missing, missing
    for k in kinds:
        zh, en = WORDS[f"ev_{k}"]
        assert zh and en and not re.search(r"[A-Za-z]{3,}", zh)


def test_the_language_switch_works_on_the_sign_in_page(app):
    from fastapi.testclient import TestClient
    client = TestClient(app)
    page = client.get("/ui/signin?next=/ui/inbox")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = page.text.split('action="/ui/lang"')[1].split("</form>")[0]
    nxt = re.search(r'name="next" value="([^"]+)"', form).group(1).replace("&amp;", "&")
    r = client.post("/ui/lang", data={"csrf_token": token, "to": "en", "next": nxt})
    assert r.status_code == 200 and r.url.path == "/ui/signin" and "User name" in r.text
    assert r.headers["content-type"].startswith("text/html")
    assert client.get("/ui/lang?next=/ui/signin").status_code == 200      # a GET goes on, never a 405


def test_a_read_only_reference_in_a_flow_form_shows_the_persons_name(app, journey):
    rm = signed_in(app, "rm_sh_01")
    committee = next(t for t in journey["second"]["tasks"] if t["node"] == "committee")
    page = rm.get(f"/ui/tasks/{committee['id']}").text
    shown = re.search(r'<output id="f-reviewer"[^>]*>(.*?)</output>', page, re.S).group(1)
    assert "陈思远" in shown and not re.fullmatch(r"\s*rm_sh_01\s*", shown)
