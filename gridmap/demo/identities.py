"""Made-up but well-formed identities for the demo: Chinese names, GB 11643 ID numbers,
mobile numbers, GB 32100 credit codes. Every draw comes from the caller's `random.Random`,
so one seed gives one population."""
import datetime as dt
import random

from gridmap.core.validators import id_check_char, uscc_check_char

# Common surnames, most frequent first (weights fall off roughly as in the census).
SURNAMES = list(
    "陈李黄张林刘王吴杨梁郑谢何罗周徐赵朱胡郭许邓冯曾彭蔡肖潘叶钟苏卢蒋沈余韩唐袁邱杜"
    "魏丁廖姚戴范方石熊江邹孙马高宋程汪田董温严曹傅赖欧龙柯莫覃韦")
_SURNAME_WEIGHTS = [1 / (i + 4) for i in range(len(SURNAMES))]
_MALE = list("伟强军杰磊涛斌明辉俊峰鹏浩宇志勇建国华文龙海波超博晨旭嘉锐子轩泽")
_FEMALE = list("芳娟敏静丽燕玲婷雪慧颖琳欣怡梅霞秀兰红艳萍丹佳悦诗雨晴思蕾嘉")

# GB/T 2260 county codes: the demo's own district for registered residents; common home
# counties of Shenzhen's floating population (流动人口) for the rest.
ORIGINS = [
    ("430102", "湖南省长沙市芙蓉区"), ("431002", "湖南省郴州市北湖区"), ("420106", "湖北省武汉市武昌区"),
    ("421002", "湖北省荆州市沙市区"), ("360702", "江西省赣州市章贡区"), ("360102", "江西省南昌市东湖区"),
    ("450102", "广西壮族自治区南宁市兴宁区"), ("510104", "四川省成都市锦江区"), ("410102", "河南省郑州市中原区"),
    ("441302", "广东省惠州市惠城区"), ("440513", "广东省汕头市潮阳区"), ("441502", "广东省汕尾市城区"),
    ("500101", "重庆市万州区"), ("350102", "福建省福州市鼓楼区"), ("520102", "贵州省贵阳市南明区"),
]
ETHNICITIES = ["汉族"] * 60 + ["壮族", "土家族", "苗族", "瑶族", "回族", "满族"]


def person_name(rnd: random.Random, sex: str) -> tuple[str, str]:
    """(surname, given name)."""
    chars = _MALE if sex == "M" else _FEMALE
    given = rnd.choice(chars) + (rnd.choice(chars) if rnd.random() < 0.8 else "")
    return rnd.choices(SURNAMES, _SURNAME_WEIGHTS)[0], given


class IdNumbers:
    """GB 11643 numbers: region + birth date + 3-digit sequence (odd for men) + check character,
    never the same twice."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.used: set[str] = set()

    def issue(self, region: str, birth: dt.date, sex: str) -> str:
        while True:
            seq = self.rnd.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.used:
                self.used.add(number)
                return number


def mobile(rnd: random.Random) -> str:
    return rnd.choice(["135", "136", "137", "138", "139", "150", "158", "159", "177", "186", "188", "189"]) + f"{rnd.randrange(10**8):08d}"


def _org_code_check(body8: str) -> str:
    """GB 11714 check character of an 8-digit organisation code (positions 9-17 of a USCC)."""
    rest = 11 - sum(int(c) * w for c, w in zip(body8, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    return {10: "X", 11: "0"}.get(rest, str(rest))


class CreditCodes:
    """GB 32100 codes: registering authority + kind (e.g. 91 enterprise, 92 individual business,
    12 public institution, 52 private non-enterprise unit) + county + organisation code + check."""

    def __init__(self, rnd: random.Random, county: str):
        self.rnd, self.county = rnd, county
        self.used: set[str] = set()

    def issue(self, authority_kind: str) -> str:
        while True:
            body = f"{self.rnd.randrange(10**8):08d}"
            first17 = f"{authority_kind}{self.county}{body}{_org_code_check(body)}"
            code = first17 + uscc_check_char(first17)
            if code not in self.used:
                self.used.add(code)
                return code
