"""Name pools for the demo bank: cities with division codes and branches, trades, brands, people."""
from __future__ import annotations

import random

# (city, administrative division codes used in credit codes, managing branch)
CITIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("北京", ("110000", "110105", "110108"), "bj_branch"),
    ("上海", ("310000", "310115", "310104"), "sh_branch"),
    ("广州", ("440101", "440106"), "gz_branch"),
    ("深圳", ("440300", "440305"), "sz_branch"),
    ("杭州", ("330100", "330106"), "hz_branch"),
    ("宁波", ("330200",), "hz_branch"),
    ("南京", ("320100", "320106"), "nj_branch"),
    ("苏州", ("320500", "320506"), "nj_branch"),
    ("合肥", ("340100",), "nj_branch"),
    ("成都", ("510100", "510107"), "cd_branch"),
    ("重庆", ("500000", "500112"), "cq_branch"),
    ("武汉", ("420100", "420106"), "wh_branch"),
    ("长沙", ("430100",), "cs_branch"),
    ("西安", ("610100", "610113"), "xa_branch"),
    ("天津", ("120000", "120116"), "tj_branch"),
    ("济南", ("370100",), "tj_branch"),
    ("青岛", ("370200",), "tj_branch"),
    ("福州", ("350100",), "gz_branch"),
    ("厦门", ("350200",), "sz_branch"),
    ("郑州", ("410100",), "wh_branch"),
    ("沈阳", ("210100",), "sy_branch"),
    ("大连", ("210200",), "sy_branch"),
)

# org unit code -> (zh, en), as in configs/org; head office first
BRANCHES: dict[str, tuple[str, str]] = {
    "head_office": ("总行", "Head office"),
    "bj_branch": ("北京分行", "Beijing branch"),
    "sh_branch": ("上海分行", "Shanghai branch"),
    "gz_branch": ("广州分行", "Guangzhou branch"),
    "sz_branch": ("深圳分行", "Shenzhen branch"),
    "hz_branch": ("杭州分行", "Hangzhou branch"),
    "nj_branch": ("南京分行", "Nanjing branch"),
    "cd_branch": ("成都分行", "Chengdu branch"),
    "cq_branch": ("重庆分行", "Chongqing branch"),
    "wh_branch": ("武汉分行", "Wuhan branch"),
    "xa_branch": ("西安分行", "Xi'an branch"),
    "tj_branch": ("天津分行", "Tianjin branch"),
    "cs_branch": ("长沙分行", "Changsha branch"),
    "sy_branch": ("沈阳分行", "Shenyang branch"),
}

# (trade word in a company name, industry enum value)
TRADES: tuple[tuple[str, str], ...] = (
    ("建材", "manufacturing"), ("钢铁", "manufacturing"), ("机械", "manufacturing"),
    ("化工", "manufacturing"), ("纺织", "manufacturing"), ("汽车零部件", "manufacturing"),
    ("新材料", "manufacturing"), ("食品", "manufacturing"), ("电子", "information_technology"),
    ("软件", "information_technology"), ("信息技术", "information_technology"),
    ("数据科技", "information_technology"), ("建设工程", "construction"),
    ("建筑安装", "construction"), ("路桥", "construction"), ("置业", "real_estate"),
    ("房地产开发", "real_estate"), ("物业管理", "real_estate"), ("商贸", "wholesale_retail"),
    ("供应链", "wholesale_retail"), ("进出口", "wholesale_retail"), ("百货", "wholesale_retail"),
    ("物流", "transport_logistics"), ("航运", "transport_logistics"),
    ("冷链运输", "transport_logistics"), ("能源", "energy"), ("新能源", "energy"),
    ("石油化工", "energy"), ("电力", "utilities"), ("燃气", "utilities"), ("水务", "utilities"),
    ("矿业", "mining"), ("煤业", "mining"), ("投资", "investment_holding"),
    ("资产管理", "investment_holding"), ("农业", "agriculture"), ("农牧", "agriculture"),
    ("生物医药", "healthcare"), ("医疗器械", "healthcare"), ("健康产业", "healthcare"),
    ("咨询", "services"), ("环境科技", "services"), ("文化传媒", "services"),
)

DESCRIPTORS = ("", "", "", "实业", "发展", "科技", "控股", "国际", "集团", "工贸")

BRAND_FIRST = "中华鼎宏恒远海金泰盛新天瑞正通永长昌东润嘉国汇安兴荣德信隆富"
BRAND_SECOND = "达恒发源泰通丰盛瑞华联晟辉宇鑫创锦和祥诚峰川港航"
OUTSIDE_BRAND_FIRST = "明光星云博康顺佳凯益百万美大同立众乐"
OUTSIDE_BRAND_SECOND = "亚成新宝利源合元力达美洋邦迪顿特"

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
            "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂华建国志文海鹏斌宇浩凯晨欣怡婷雪琳俊峰辉鑫"
         "波红英玉兰飞鸿宁远博睿嘉晓亮成东林春燕梅")


def brands(rng: random.Random, count: int, first: str = BRAND_FIRST, second: str = BRAND_SECOND) -> list[str]:
    """`count` distinct two-character brand names."""
    pool = [a + b for a in first for b in second if a != b]
    return rng.sample(pool, count)


def person_name(rng: random.Random) -> str:
    given_len = 2 if rng.random() < 0.7 else 1
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(given_len))


def company_name(rng: random.Random, city: str, brand: str, trade: str, suffix: str) -> str:
    """E.g. 上海中恒建材有限公司, or 中恒建材科技（上海）有限公司 for one in five."""
    descriptor = rng.choice(DESCRIPTORS)
    if rng.random() < 0.2:
        return f"{brand}{trade}{descriptor}（{city}）{suffix}"
    return f"{city}{brand}{trade}{descriptor}{suffix}"
