"""The words of the web pages in zh-CN and en (labels of entities and fields come from the IR)."""
from __future__ import annotations

from typing import Any

from dsl.bank_time import moment_text, zone_label

WORDS: dict[str, tuple[str, str]] = {
    "app": ("Banyan 集团客户管理", "Banyan group client management"),
    "skip": ("跳到正文", "Skip to content"),
    "signin": ("登录", "Sign in"), "signout": ("退出", "Sign out"),
    "username": ("用户名", "User name"), "password": ("密码", "Password"),
    "signin_failed": ("用户名或密码不正确，或账户已停用。", "The user name or password is wrong, or the account is inactive."),
    "signin_intro": ("请使用行内账户登录。", "Sign in with your bank account."),
    "signin_csrf": ("页面已过期，请重新提交。", "The page expired; please submit again."),
    "language": ("语言", "Language"), "switch_lang": ("English", "中文"),
    "home": ("首页", "Home"), "entities": ("数据", "Records"), "your_context": ("您的身份", "You"),
    "unit": ("所属机构", "Org unit"), "roles": ("角色", "Roles"), "scope": ("可见范围", "You see"),
    "scope_all": ("全行", "The whole bank"), "scope_units": ("{n} 个机构：{units}", "{n} units: {units}"),
    "records_count": ("{n} 条", "{n} records"), "bank_wide": ("全行", "bank-wide"),
    "search": ("搜索", "Search"), "search_hint": ("名称、编号…", "Name, code…"), "filter": ("筛选", "Filter"),
    "all": ("全部", "All"), "apply": ("应用", "Apply"), "reset": ("清除", "Clear"),
    "new": ("新建", "New"), "edit": ("编辑", "Edit"), "delete": ("删除", "Delete"), "save": ("保存", "Save"),
    "create": ("创建", "Create"), "cancel": ("取消", "Cancel"), "back": ("返回列表", "Back to the list"),
    "import": ("导入", "Import"), "export": ("导出", "Export"), "details": ("详情", "Details"),
    "no_records": ("没有符合条件的记录。", "No records match."),
    "page_of": ("第 {a}–{b} 条，共 {n} 条", "{a}–{b} of {n}"), "prev": ("上一页", "Previous"), "next": ("下一页", "Next"),
    "pagination": ("分页", "Pages"),
    "created": ("已创建。", "Created."), "saved": ("已保存。", "Saved."), "deleted": ("已删除。", "Deleted."),
    "version": ("版本", "Version"), "updated_at": ("更新时间", "Updated"), "created_at": ("创建时间", "Created"),
    "confirm_delete": ("删除这条记录？此操作记入审计日志。", "Delete this record? The audit log keeps it."),
    "conflict": ("记录已被他人修改，请刷新后重试。", "Someone else changed this record; reload and try again."),
    "out_of_scope": ("该机构不在您的可见范围内", "This unit is outside what you may see"),
    "not_found": ("未找到", "Not found"), "denied_title": ("无权访问", "Not allowed"),
    "denied": ("您没有执行此操作的权限。", "You are not allowed to do this."),
    "read_only_record": ("这条记录由其他机构主办（或属于其他机构的客户），您的机构与它有业务往来，因此可以查看、不能修改；"
                         "跨机构的汇总数据（如集团授信余额）仅主办行可见，此处显示为“—”。",
                         "Another branch leads this record; your branch does business with it, so you may read it but not "
                         "change it. Figures summed across branches (such as the group's credit balance) are for the lead "
                         "branch only and show as “—”."),
    "read_only": ("这条记录由其他机构主办，您可以查看，但不能修改。", "Another branch leads this record: you may read it, not change it."),
    "no_such_record": ("没有这条记录，或它不在您的可见范围内。", "There is no such record, or it is outside what you may see."),
    "import_title": ("导入 {entity}", "Import {entity}"),
    "import_help": ("上传 CSV 或 XLSX 文件，首行为字段名（中文或英文标签、字段名均可）。全部校验通过才写入，否则一条也不写。"
                    "CSV 可以是 Excel 直接保存的 GBK 编码或 UTF-8；金额可写 3000万，日期可写 2018/5/1。",
                    "Upload a CSV or XLSX file whose first row names the fields (field names or labels). "
                    "Nothing is written unless every row is valid. A CSV may be GBK as Excel saves it, or UTF-8; "
                    "money may be written 3000万, dates 2018/5/1."),
    "import_template": ("下载导入模板（XLSX）", "Download the import template (XLSX)"),
    "column": ("列", "Column"),
    "file": ("文件", "File"), "upload": ("上传并导入", "Upload and import"),
    "import_done": ("已导入 {n} 条记录。", "Imported {n} records."),
    "import_failed": ("未导入：{n} 处问题，请修改后重新上传。", "Nothing was imported: {n} problem(s). Fix them and upload again."),
    "line": ("行", "Line"), "field": ("字段", "Field"), "problem": ("问题", "Problem"),
    "import_type": ("请上传 .csv 或 .xlsx 文件", "Upload a .csv or .xlsx file"),
    "import_too_big": ("文件不能超过 {mb} MB", "The file must be at most {mb} MB"),
    "unavailable": ("当前版本中无法运行的配置", "Not running in the current version"), "unavailable_hint": ("修正对应 YAML 后重新部署即可恢复。", "Fix their YAML and redeploy to bring them back."),
    "deployments": ("部署历史", "Deployments"), "action": ("操作", "Action"), "author": ("部署人", "Author"),
    "message": ("说明", "Message"), "hash": ("哈希", "Hash"), "at": ("时间", "At"), "documents": ("文档", "Documents"),
    "users": ("用户", "Users"), "new_user": ("新建用户", "New user"), "display_name": ("姓名", "Name"),
    "email": ("电子邮件", "E-mail"), "admin_flag": ("系统管理员", "Administrator"), "active": ("启用", "Active"),
    "role_permissions": ("角色权限", "Role permissions"), "permissions": ("权限", "Permissions"),
    "role_unit": ("任职机构", "Held in"), "add_role": ("添加角色", "Add a role"),
    "password_new": ("新密码（留空则不修改）", "New password (leave empty to keep)"),
    "me": ("我的账户", "My account"), "tokens": ("API 令牌", "API tokens"), "token_label": ("用途", "Label"),
    "token_new": ("生成令牌", "Create a token"), "token_shown_once": ("请立即复制，令牌只显示这一次：", "Copy it now; it is shown only once:"),
    "revoke": ("吊销", "Revoke"), "revoked": ("已吊销", "Revoked"), "last_used": ("最近使用", "Last used"),
    "change_password": ("修改密码", "Change password"), "current_password": ("当前密码", "Current password"),
    "password_changed": ("密码已修改，其他会话已退出。", "Password changed; other sessions are signed out."),
    "wrong_password": ("当前密码不正确", "The current password is wrong"),
    "forms": ("表单", "Forms"), "try_form": ("试填表单", "Try a form"),
    "form_ok": ("全部规则校验通过（试填不保存）。", "Every rule passes (trying out saves nothing)."),
    "check": ("校验", "Check"), "typed_values": ("解析后的值", "Typed values"),
    "perm_records.write": ("新建和修改记录", "Create and edit records"),
    "perm_records.import": ("批量导入", "Import files"), "perm_records.delete": ("删除记录", "Delete records"),
    "perm_deployments.read": ("查看部署历史", "See deployments"), "perm_users.admin": ("管理用户", "Manage users"),
    "perm_audit.read": ("查看审计日志", "Read the audit log"),
    "perm_alerts.close": ("关闭预警", "Close alerts"),
    "perm_personal.read": ("查看个人信息", "See personal data"), "perm_personal.export": ("导出个人信息", "Export personal data"),
    "everyone_reads": ("所有用户均可查看其可见范围内的记录。", "Everyone reads the records inside their scope."),
    "nothing_deployed": ("尚未部署任何配置。请先运行 `banyan deploy configs`。", "Nothing is deployed yet; run `banyan deploy configs`."),
    "crumbs": ("位置", "Breadcrumb"), "main_nav": ("主导航", "Main"), "record_nav": ("记录操作", "Record actions"),
    "times_in": ("本页时间均为 {zone}", "Times are in {zone}"),
}


def text(key: str, lang: str = "zh", **slots: Any) -> str:
    zh, en = WORDS[key]
    value = en if lang == "en" else zh
    return value.format(**slots) if slots else value


def when(value: Any, zone: bool = False) -> str:
    """A moment on a page: `2026-10-09 10:00` on the bank's clock (stored naive moments are UTC),
    `zone=True` adds `UTC+08:00`. Every page's time goes through here (or `short_time`, the same);
    templates use it as the `when` filter."""
    return moment_text(value, zone=zone)


ZONE_NAMES_ZH = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "Asia/Hong_Kong": "香港时间",
                 "Asia/Macau": "澳门时间", "Asia/Taipei": "台北时间", "Asia/Singapore": "新加坡时间",
                 "Asia/Tokyo": "东京时间", "Europe/London": "伦敦时间", "America/New_York": "纽约时间",
                 "UTC": "协调世界时", "Etc/UTC": "协调世界时"}


def times_note(lang: str = "zh") -> str:
    """The footer line that says which zone the page's times are in (in Chinese, a zone's Chinese
    name where it has one: 北京时间 (UTC+08:00), not Asia/Shanghai)."""
    label = zone_label()
    if lang != "en":
        name = label.split(" (", 1)[0]
        if name in ZONE_NAMES_ZH:
            label = ZONE_NAMES_ZH[name] + label[len(name):]
    return text("times_in", lang, zone=label)
