"""What happens in the demo community 天海社区, as data: its people, what its
residents' committee books each month, the disclosures it posts in every category and
scope, the opinions of its reviews, the two objections with their findings, residents'
opinions, and two inquiries. :mod:`api.demo.community` plays it into a ledger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.domain.base import Actor
from ledger.domain.vocabulary import DEFAULT_ACCOUNTS, Channel, EntryKind, ReviewStage, Role, Scope
from ledger.store.base import Community

COMMUNITY: Final = Community("tianhai", "天海社区")
MONTHS: Final = 6  # full months of finance entries before today's month

CLERK: Final = Actor("李娜", Role.CLERK)
CHAIR: Final = Actor("王建国", Role.COMMITTEE_CHAIR)
MEMBER: Final = Actor("陈红梅", Role.COMMITTEE_MEMBER)
PARTY: Final = Actor("赵志刚", Role.PARTY_REVIEWER)
RESIDENT: Final = Actor("刘*华", Role.RESIDENT)
REPRESENTATIVE: Final = Actor("周*兰", Role.RESIDENT_REPRESENTATIVE)  # 5号楼居民代表

INCOME, EXPENSE = EntryKind.INCOME, EntryKind.EXPENSE
PUBLIC, INTERNAL, LEADERSHIP = Scope.PUBLIC, Scope.INTERNAL, Scope.LEADERSHIP
BOARD, SCREEN, MEETING, LEAFLET = Channel.BOARD, Channel.SCREEN, Channel.MEETING, Channel.LEAFLET
ACCOUNT_NAMES: Final = {a.code: a.name for a in DEFAULT_ACCOUNTS}


@dataclass(frozen=True, slots=True)
class Line:
    """One finance entry of a month; ``slug`` names it in the idempotency key."""

    slug: str
    kind: EntryKind
    account: str
    amount_fen: int
    counterparty: str
    memo: str


# --- finance: what a residents' committee books each month ---------------------------

EVERY_MONTH: Final = (
    Line("grant", INCOME, "grant", 20_000_00, "海秀街道办事处", "社区工作经费月度拨款"),
    Line("rent", INCOME, "rent", 3_800_00, "天海便民超市", "社区临街用房月租金"),
    Line("salary", EXPENSE, "salary", 3 * 4_200_00, "社区专职工作者3人", "月工资，每人4,200.00元"),
    Line("telephone", EXPENSE, "telephone", 259_00, "中国电信海秀营业厅", "办公电话及宽带月租"),
)
# What varies by calendar month: (office supplies, the month's community activity,
# its cost, its supplier); amounts in fen.
VARYING: Final[dict[int, tuple[int, str, int, str]]] = {
    1: (412_30, "迎新春联欢会", 2_860_00, "海秀百货商行"),
    2: (286_00, "元宵节猜灯谜活动", 1_240_00, "海秀百货商行"),
    3: (355_80, "学雷锋志愿服务日", 860_00, "海秀百货商行"),
    4: (198_50, "清明文明祭扫宣传", 520_00, "海秀印务社"),
    5: (467_20, "社区邻里运动会", 2_150_00, "海秀体育用品店"),
    6: (320_00, "端午包粽子活动", 1_380_00, "天海便民超市"),
    7: (274_60, "暑期青少年托管班", 3_200_00, "海秀百货商行"),
    8: (389_90, "夏季纳凉晚会", 1_650_00, "海秀音响租赁部"),
    9: (243_00, "中秋邻里节", 2_480_00, "天海便民超市"),
    10: (516_40, "重阳节敬老宴", 3_600_00, "天海酒家"),
    11: (301_70, "消防安全演练", 740_00, "海秀消防器材店"),
    12: (458_00, "冬至包饺子活动", 1_120_00, "天海便民超市"),
}
# Festival donations and relief; any six consecutive months meet some of each.
SEASONAL: Final[dict[int, tuple[Line, ...]]] = {
    1: (
        Line("donation", INCOME, "donation", 5_000_00, "天海物业服务有限公司", "春节慰问定向捐赠"),
        Line("relief", EXPENSE, "relief", 4_800_00, "困难家庭12户", "春节慰问，每户400.00元"),
    ),
    5: (Line("donation", INCOME, "donation", 3_000_00, "海秀建设集团有限公司", "助学捐赠"),),
    6: (Line("relief", EXPENSE, "relief", 1_500_00, "困难家庭5户", "端午慰问，每户300.00元"),),
    9: (
        Line("donation", INCOME, "donation", 4_000_00, "天海物业服务有限公司", "中秋慰问捐赠"),
        Line("relief", EXPENSE, "relief", 3_000_00, "困难家庭10户", "中秋慰问，每户300.00元"),
    ),
    10: (Line("relief", EXPENSE, "relief", 4_400_00, "高龄老人22人", "重阳慰问，每人200.00元"),),
    12: (Line("relief", EXPENSE, "relief", 3_600_00, "困难家庭12户", "冬季送温暖，每户300.00元"),),
}


@dataclass(frozen=True, slots=True)
class Item:
    """One disclosure and its path. Texts may use the fields of :func:`_context`
    (``{pm}`` is last month). ``rejected`` is (the committee's opinion, the first draft's
    body) when the committee sends the first draft back."""

    slug: str
    category: str
    scope: Scope
    title: str
    body: str
    channels: tuple[Channel, ...] = (BOARD,)
    days: int = 30  # posting period
    starts: int = 0  # days after the first of the month the posting starts
    #: 保密审查 初审 → 复审 → 终审 before the committee's review, for a public item too
    #: (an item not public always has it).
    secret: bool = False
    rejected: tuple[str, str] | None = None
    withdraw: str = ""  # reason, if withdrawn after posting
    archive: bool = False
    #: What each attached document is (a line of ASCII: it is printed in a demo PDF).
    attachments: tuple[str, ...] = ()
    #: The people an aid list names, each sealed under their own key (ledger.domain.
    #: personal_data): person_id, name, ID number, phone, amount in fen.
    recipients: tuple[dict[str, object], ...] = ()


# --- disclosures: one per category (收支明细 is built from the entries), all scopes ----

# The 低保 list as first posted, and as corrected after the objection below.
DIBAO: Final = (
    "本市城市低保标准为每人每月1,200元。{pm}月本社区共有低保家庭5户{persons}人，"
    "发放低保金合计{total}元：张*英（1人）860元；王*芳（{household}人）{wang}元；李*国（3人）1,950元；"
    "赵*兰（1人）680元；陈*（2人）500元。以上金额经海秀街道民政科核定，由银行直接"
    "发放至本人账户。居民如有意见，可在公示期内向社区或街道反映。"
)
DIBAO_POSTED: Final = {"persons": "9", "total": "5,630", "household": "2", "wang": "1,640"}
DIBAO_CORRECTED: Final = {"persons": "10", "total": "6,160", "household": "3", "wang": "2,170"}

# One row per disclosure reads better here than the formatter's one argument a line.
# fmt: off
ITEMS: Final = (
    Item("policies", "policies", PUBLIC, "《城市居民委员会组织法》及本市居务公开规定摘要",
         "居民委员会办理本居住地区公益事业所需费用、收支账目应当及时公布，接受居民监督。"
         "居民对公开内容有异议的，可以书面或口头向社区党支部、居务监督委员会或海秀街道"
         "纪工委反映，收到后将核实并答复。本栏目长期公开。", (BOARD, SCREEN), 365),
    Item("work-plan", "work_plan", PUBLIC, "天海社区{y}年第{q}季度工作计划及任务落实情况",
         "一、老旧小区雨污分流改造一期本季度末前完工；二、落实街道下达的流动人口信息采集"
         "任务，已登记1,326户，完成率96.8%；三、垃圾分类桶前值守，每周公布各楼栋达标率；"
         "四、为80周岁以上老人上门办理高龄津贴年审。上季度计划8项，完成7项，社区食堂因"
         "选址未定顺延至本季度。"),
    Item("by-election", "elections", PUBLIC, "关于补选天海社区居民委员会委员的公告",
         "原委员周平因工作调动，书面辞去委员职务，经居民代表会议同意。根据《城市居民"
         "委员会组织法》，将在居民代表会议上补选委员一名。候选人由居民代表十人以上联名"
         "推荐，推荐截止日期为{m}月10日。", (BOARD, LEAFLET),
         withdraw="推荐截止日期与街道统一部署不一致，原公告撤回，调整后重新公告。"),
    Item("road-widening", "land_compensation", PUBLIC, "天海路拓宽工程房屋征收补偿方案公示",
         "经区人民政府批准，天海路拓宽工程涉及本社区3号楼临街商铺6间、住宅2户，合计建筑"
         "面积412.6平方米。补偿按评估单价每平方米18,600元执行，另给予搬迁费和临时安置费。"
         "区征收办在社区议事厅设咨询点，每周二、四上午接待。", (BOARD, MEETING),
         attachments=("Tianhai Road widening: compensation plan, sealed copy",)),
    # The amounts are filled in now; {pm} is left for _context, like every other text.
    Item("dibao", "social_assistance", PUBLIC, "{py}年{pm}月城市最低生活保障金发放公示",
         DIBAO.format_map({"pm": "{pm}", **DIBAO_POSTED}), secret=True),
    Item("targets", "annual_targets", PUBLIC, "天海社区{y}年度工作目标执行情况（截至{pm}月）",
         "年度目标共10项。已完成：为老服务站提档升级、微型消防站建设、居民议事会按季召开。"
         "推进中：雨污分流改造一期（完成60%）、垃圾分类参与率90%（目前86.4%）、新增停车位"
         "40个（已完成25个）。未启动：社区食堂，拟于第四季度提交居民代表会议讨论。",
         (BOARD, SCREEN)),
    Item("lease-floor", "council_decisions", LEADERSHIP, "【班子内部】社区临街用房续租议价方案",
         "天海便民超市承租的临街用房（86平方米）年底租期届满。议事委员会决定：续租底价按"
         "周边评估租金每月每平方米46元确定，年租金不低于47,500元；居委会主任与监委会主任"
         "共同参加谈判；报价低于底价的改为公开招租。本方案含商业谈判底价，仅限班子内部"
         "知悉，谈判结束后公开结果。", (MEETING,), secret=True),
    Item("duties", "personnel", PUBLIC, "天海社区居委会成员分工调整公告",
         "因原委员周平工作调动，经居委会会议研究，分工调整如下：主任刘文斌主持全面工作，"
         "分管财务；副主任孙丽负责社会事务、低保及救助；委员李娜负责居务公开、档案及统计；"
         "委员何强负责综合治理、安全生产及物业协调。自即日起执行。"),
    Item("elderly-allowance", "welfare_eligibility", PUBLIC, "{y}年度高龄津贴申领对象资格公示",
         "经本人申请、社区初审，以下居民符合80周岁以上高龄津贴申领条件：林*生（82岁）、"
         "黄*珍（85岁）、郑*华（90岁）、吴*娣（81岁）。公示期7天，有异议的可向社区或海秀"
         "街道民政科反映；期满无异议的报街道审批。", days=7, starts=-25, archive=True),
    Item("reps-meeting", "resident_meetings", PUBLIC, "关于召开天海社区居民代表会议的通知",
         "定于{meet}下午2:30在社区二楼议事厅召开居民代表会议，应到代表45人。议题：一、审议"
         "临街用房续租事项；二、审议老旧小区改造二期加装电梯实施方案；三、通报近六个月"
         "财务收支。会议须过半数代表出席方为有效，决议须经出席代表三分之二以上通过，会后"
         "公布决议。", (BOARD, LEAFLET), days=16),
    Item("evaluation", "evaluation_results", PUBLIC, "天海社区工作人员民主评议结果公示",
         "{py}年{pm}月28日，海秀街道组织居民代表对社区工作人员民主评议，应到代表45人，实到"
         "41人，无记名投票，街道工作人员现场计票。结果：刘文斌 优秀（优秀32票、合格8票、"
         "基本合格1票）；孙丽 优秀（29、11、1票）；李娜 合格（优秀18、合格21、基本合格2票）；"
         "何强 合格（优秀15、合格22、基本合格3、不合格1票）。评为优秀的给予表彰。",
         (BOARD, MEETING),
         rejected=("未写明评议时间、参评人数及各人得票，不符合“公开内容具体”的要求，请补充。",
                   "近日社区组织了民主评议，刘文斌、孙丽为优秀，李娜、何强为合格。")),
    Item("parking", "resident_requests", PUBLIC, "居民要求公开：小区停车费收支及去向",
         "应3号楼、7号楼居民联名要求公开：小区地面停车位126个，月租每个150元，由天海物业"
         "服务有限公司代收。{pm}月收取停车费18,900元，扣除管理员工资及设施维护费10,000元后，"
         "净收益的70%（6,230元）存入业主共有资金账户，用于公共设施维修。", (SCREEN, BOARD)),
    Item("budget", "financial_plan", INTERNAL, "【内部】天海社区{y}年度财务收支计划",
         "收入计划：上级拨款240,000元，租金收入45,600元，捐赠赞助约15,000元，合计300,600元。"
         "支出计划：工资151,200元，活动经费24,000元，慰问救济金20,000元，办公费及电话费"
         "8,400元，社区建设预留40,000元，其他不超过5,000元，合计248,600元。年初银行存款"
         "86,420.35元，无对外借款。", (MEETING,), 365,
         attachments=("Annual budget table, as adopted",)),
    Item("sewer-fund", "special_projects", PUBLIC, "雨污分流改造（一期）专项资金使用情况",
         "项目预算1,860,000元，其中区财政专项1,500,000元、街道配套360,000元，已全部到位。"
         "海秀市政工程有限公司承建，合同价1,712,400元。截至{pm}月底按进度拨付工程款"
         "1,027,440元（合同价的60%），监理费38,000元。结余资金按规定上缴。", (BOARD, SCREEN)),
    Item("elevators", "tenders", PUBLIC, "老旧小区改造二期加装电梯招标结果及施工进度",
         "经区公共资源交易中心公开招标，5家单位投标，海秀建设集团有限公司以2,364,000元"
         "中标（控制价2,480,000元），工期180天。3号楼、5号楼井道基础已完成，7号楼正在迁改"
         "管线。每日7:00前、12:00至14:00、20:00后不进行噪声作业。", (BOARD, SCREEN), 60,
         attachments=("Elevators, phase 2: notice of award", "Elevators: works schedule")),
    Item("debts", "debts_loans", INTERNAL, "【内部】天海社区债权债务情况（截至{pm}月底）",
         "债权：天海便民超市欠缴房租一个月3,800元，已书面催缴，承租方承诺下月结清。债务："
         "应付海秀文具商行办公用品款1,286.50元，未到结算期。社区无对外借款、无担保事项。",
         (MEETING,)),
)
# fmt: on

COMMITTEE_OPINIONS: Final = (
    "内容真实、具体，同意公开。",
    "已核对原始凭证和资料，同意公开。",
    "符合公开要求，同意按拟定范围公开。",
)
PARTY_OPINION: Final = "经党支部审查，内容符合政策规定，同意公开。"
# A review act: (stage, reviewer, opinion).
Step = tuple[ReviewStage, Actor, str]
CONFIDENTIALITY: Final[tuple[Step, ...]] = (
    (ReviewStage.FIRST, CLERK, "初审：不涉及国家秘密；个人信息已脱敏，公开范围已标明。"),
    (ReviewStage.SECOND, CHAIR, "复审：同意初审意见，公开范围适当。"),
    (ReviewStage.FINAL, PARTY, "终审：同意按拟定范围公开，由本人负责。"),
)

# --- objections: one verified and corrected, one dismissed ---------------------------

DIBAO_OBJECTION: Final = "王*芳家新生儿已于{pm}月落户，家庭人口应为3人，公示仍为2人，金额未调整。"
DIBAO_FINDING: Final = (
    "经与海秀街道民政科核对，王*芳户新增人口1人，街道已核定自{pm}月起按3人计发，"
    "月发放2,170元；原公示沿用旧数据，反映属实。"
)
DIBAO_EXPLANATION: Final = (
    "原公示误用王*芳户调整前的家庭人口和金额，经居民书面反映、党支部核实后更正；"
    "差额530元已由街道补发。"
)
CORRECTION_OPINION: Final = "已核对街道民政科核定的人口和金额，更正内容属实，同意公开。"
ELEVATOR_OBJECTION: Final = "加装电梯中标价偏高，怀疑有陪标。"
ELEVATOR_DISMISSAL: Final = (
    "经查阅招标文件、开标记录及区公共资源交易中心公示，5家单位独立投标，中标价低于"
    "控制价约4.7%，程序合规，异议不成立；已于3个工作日内当面答复反映人。"
)

# --- opinions: one answered in public, one whose text the resident kept private -------

PARKING_OPINION: Final = "建议停车费收支按季度在公开栏公布明细，并写明公共设施维修的具体项目。"
PARKING_ANSWER: Final = (
    "感谢您的意见。自下季度起，停车费收支及维修资金使用明细每季度在公开栏和电子屏公布，"
    "维修项目逐项列明。"
)
MEETING_OPINION: Final = "我家老人行动不便，希望会议能安排在一楼，或允许委托家属参加。"

# --- inquiries: one answered in time, one left unanswered (the service escalates it) --

RENT_INQUIRY: Final = "临街用房续租为何不公开招租？请说明理由和依据。"
RENT_ANSWER: Final = (
    "续租方案已经居民代表会议审议；谈判底价按评估租金确定，报价低于底价的改为公开招租。"
    "谈判结束后公布结果。"
)
LIFT_INQUIRY: Final = "加装电梯二期施工期间，低层住户的补偿方案何时公布？"

# --- a report to the street disciplinary committee, acknowledged and being investigated --

AUDITOR: Final = Actor("陈静", Role.DISCIPLINARY_AUDITOR)  # 街道纪工委
REPORT_SUBJECT: Final = "保洁服务合同续签未经居民代表会议"
REPORT_TEXT: Final = (
    "今年保洁服务合同续签，没有经过居民代表会议讨论，合同金额比去年高出不少，"
    "也没有在公开栏公布。请纪工委核查。"
)
REPORTER_NAME: Final = "刘华"
REPORTER_CONTACT: Final = "5号楼2单元，电话 139-0000-0000（演示）"
REPORT_ACKNOWLEDGEMENT: Final = "已受理，转街道纪工委第二组核查。"
REPORT_STEP: Final = "调阅保洁服务合同及近两年付款凭证。"

# --- the disclosure calendar (公开目录与时限), from the seeds -------------------------------

#: (slug, title, category, cadence, due_days, scope, basis)
CALENDAR: Final = (
    (
        "finance",
        "每月财务收支明细",
        "income_expense",
        "monthly",
        10,
        "internal",
        "财务收支情况每月公开 [000]；一般事项每月公开一次 [004 篇九]",
    ),
    (
        "assistance",
        "低保及救济救助对象",
        "social_assistance",
        "monthly",
        10,
        "public",
        "享受最低保障情况等常规性工作要定期公开 [004 篇九]",
    ),
    (
        "work",
        "工作计划及任务落实情况",
        "work_plan",
        "quarterly",
        15,
        "public",
        "工作执行情况、完成工作目标情况每季度公开 [000]",
    ),
    (
        "year",
        "年度目标及执行情况",
        "annual_targets",
        "year_end",
        20,
        "public",
        "每年年底召开年终总结会 [002]",
    ),
    (
        "matters",
        "重大事项（一事一公开）",
        "council_decisions",
        "per_matter",
        5,
        "public",
        "重大事项做到一事一公开 [004 篇九]",
    ),
    (
        "meetings",
        "居民会议决定的热点事项（事前公开）",
        "resident_meetings",
        "before_the_fact",
        3,
        "public",
        "居民关注的热点问题经居民会议讨论决定实行全过程公开 [000]",
    ),
    (
        "policies",
        "政策法规及规章制度",
        "policies",
        "long_term",
        0,
        "public",
        "有关政策、法规等固定性的工作要长期公开 [004 篇九]",
    ),
)

# --- the months before: what was posted, late, never posted, or left unarchived --------
# Indexes into the six months before today's month, oldest first.

#: The month whose statement (收支明细) was posted on the 13th, past the 10th it was due.
LATE_STATEMENT: Final = 2
#: The month whose 低保 list was posted on the 15th; the one never posted; the one whose
#: list stayed up past its posting period, never archived (档案不健全).
LATE_AID, MISSING_AID, UNARCHIVED_AID = 1, 3, 0
#: The month the first 公开制度 was taken down, early for a long-term item (不持久).
POLICIES_DOWN: Final = 3

FIRST_POLICIES: Final = Item(
    "policies-first", "policies", PUBLIC, "天海社区居务公开制度",
    "公开内容：政务、事务、财务及居民关注的热点问题。公开时间：常规事项每月10日前公开，"
    "重大事项一事一公开，热点问题经居民会议讨论决定全过程公开。公开形式：公开栏、电子屏、"
    "居民会议。本制度长期公开。", (BOARD,), 365,
    withdraw="公开栏改造，制度文本暂时撤下，改造完成后重新公开。",
)  # fmt: skip
PAST_AID_TITLE: Final = "{y}年{m}月城市最低生活保障金发放公示"
PAST_WORK_TITLE: Final = "天海社区{y}年第{q}季度工作任务落实情况"
PAST_WORK_BODY: Final = (
    "本季度计划工作8项，完成7项：雨污分流改造一期按进度推进，流动人口信息采集完成率"
    "95%以上，垃圾分类桶前值守每周公布达标率，高龄津贴年审上门办理。社区食堂因选址未定，"
    "顺延至下季度。"
)
SIGN_OFF_OPINION: Final = "民主理财小组已逐笔核对原始凭证，收支相符，同意公开。"
DUPLICATE_FOUND: Final = "民主理财小组核对发现{period}办公费凭证重复记账一笔，下月红字冲销。"

# --- the representatives' meetings: last month's, held, and this month's, noticed ------

REPRESENTATIVES_COUNT: Final = 45
LAST_MEETING_AGENDA: Final = ("审议临街用房续租方案", "审议提高临街用房租金标准的建议")
#: Of the 45 representatives, those present at last month's meeting (41, as on the
#: evaluation notice), and each resolution's (title, for, against, abstaining).
LAST_MEETING_PRESENT: Final = 41
LAST_MEETING_VOTES: Final = (
    ("临街用房按评估底价续租，低于底价公开招租", 32, 6, 3),  # 32 of 41: passed
    ("临街用房租金每年上调10%", 20, 15, 6),  # 20 of 41: under two thirds
)
RESOLUTION: Final = Item(
    "resolution", "resident_meetings", PUBLIC, "天海社区居民代表会议决议公告",
    "{py}年{pm}月12日居民代表会议应到代表45人，实到41人，符合过半数出席的规定。会议表决："
    "临街用房按评估底价续租，低于底价的改为公开招租，赞成32票、反对6票、弃权3票，"
    "超过出席代表三分之二，决议通过；临街用房租金每年上调10%的建议，赞成20票，未达"
    "三分之二，未通过。决议由居委会负责实施。",
)  # fmt: skip

# --- the months before's 低保 lists: their recipients, sealed person by person ----------


def _person(pid: str, name: str, id_number: str, phone: str, fen: int) -> dict[str, object]:
    return {"person_id": pid, "name": name, "id_number": id_number, "phone": phone,
            "amount_fen": fen}  # fmt: skip


# The ID numbers and phones are the demo's own, not anyone's.
AID_RECIPIENTS: Final = (
    _person("TH-DB-001", "张桂英", "46010019500101002X", "13900000101", 860_00),
    _person("TH-DB-002", "王丽芳", "460100198203150026", "13900000102", 1_640_00),
    _person("TH-DB-003", "李建国", "460100196807200011", "13900000103", 1_950_00),
    _person("TH-DB-004", "赵秀兰", "460100194511110023", "", 680_00),
    _person("TH-DB-005", "陈刚", "460100199009090015", "13900000105", 500_00),
)
#: On the lists of the first two months only: she moved away, her 低保 was transferred,
#: and her personal data is erased in the fourth month (PIPL 第四十七条).
MOVED_AWAY: Final = _person("TH-DB-006", "周桂芝", "460100195205050047", "13900000106", 620_00)
MOVED_AWAY_MONTHS: Final = 2
ERASURE_GROUND: Final = "purpose_fulfilled"
ERASURE_REASON: Final = (
    "该户已迁出本社区，低保关系已转至迁入地，本社区公开记录中其个人信息不再需要保存，"
    "依《个人信息保护法》第四十七条删除。"
)
PAST_AID_BODY: Final = (
    "本市城市低保标准为每人每月1,200元。{m}月本社区共有低保家庭{n}户，发放低保金合计{total}元，"
    "名单见下表（公开栏只显示姓氏）。以上金额经海秀街道民政科核定，由银行直接发放至本人账户。"
    "居民如有意见，可在公示期内向社区或街道反映。"
)
