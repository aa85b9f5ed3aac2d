"""Word lists of the demo data: places, roads, vehicles and the words of each trade.

Person names come from Faker's zh_CN lists (see generator.py). Places are a fixed table so that the
province, city, district, landline area code and licence plate letters of one customer agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    province: str
    name: str
    area_code: str  # without the trunk prefix 0
    local_digits: int  # length of a landline number after the area code
    plates: tuple[str, ...]  # province character + city letter
    districts: tuple[str, ...]
    weight: float


CITIES: tuple[City, ...] = (
    City(
        "广东省", "广州市", "20", 8, ("粤A",), ("天河区", "越秀区", "海珠区", "白云区", "番禺区", "黄埔区"), 9
    ),
    City(
        "广东省",
        "深圳市",
        "755",
        8,
        ("粤B",),
        ("南山区", "福田区", "罗湖区", "宝安区", "龙岗区", "龙华区"),
        9,
    ),
    City("广东省", "东莞市", "769", 8, ("粤S",), ("南城街道", "东城街道", "长安镇", "虎门镇", "松山湖"), 4),
    City("广东省", "佛山市", "757", 8, ("粤E", "粤X", "粤Y"), ("禅城区", "南海区", "顺德区", "三水区"), 4),
    City(
        "上海市",
        "上海市",
        "21",
        8,
        ("沪A", "沪B", "沪C", "沪D", "沪E", "沪F"),
        ("浦东新区", "徐汇区", "静安区", "闵行区", "黄浦区", "长宁区", "普陀区", "宝山区"),
        9,
    ),
    City(
        "北京市",
        "北京市",
        "10",
        8,
        ("京A", "京B", "京E", "京F", "京G", "京N", "京P", "京Q"),
        ("朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区", "大兴区", "昌平区"),
        8,
    ),
    City(
        "天津市",
        "天津市",
        "22",
        8,
        ("津A", "津B", "津C"),
        ("和平区", "南开区", "河西区", "滨海新区", "西青区"),
        3,
    ),
    City(
        "重庆市",
        "重庆市",
        "23",
        8,
        ("渝A", "渝B", "渝D"),
        ("渝中区", "江北区", "渝北区", "南岸区", "沙坪坝区", "九龙坡区"),
        4,
    ),
    City(
        "浙江省",
        "杭州市",
        "571",
        8,
        ("浙A",),
        ("西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "余杭区"),
        6,
    ),
    City("浙江省", "宁波市", "574", 8, ("浙B",), ("海曙区", "鄞州区", "江北区", "北仑区", "镇海区"), 3),
    City(
        "江苏省", "南京市", "25", 8, ("苏A",), ("玄武区", "秦淮区", "鼓楼区", "建邺区", "江宁区", "浦口区"), 5
    ),
    City("江苏省", "苏州市", "512", 8, ("苏E", "苏U"), ("姑苏区", "吴中区", "相城区", "吴江区", "虎丘区"), 5),
    City(
        "四川省",
        "成都市",
        "28",
        8,
        ("川A", "川G"),
        ("锦江区", "青羊区", "武侯区", "成华区", "金牛区", "双流区"),
        6,
    ),
    City("湖北省", "武汉市", "27", 8, ("鄂A",), ("江汉区", "武昌区", "洪山区", "江岸区", "汉阳区"), 5),
    City("湖南省", "长沙市", "731", 8, ("湘A",), ("岳麓区", "芙蓉区", "天心区", "开福区", "雨花区"), 4),
    City("陕西省", "西安市", "29", 8, ("陕A", "陕U"), ("雁塔区", "碑林区", "未央区", "长安区", "莲湖区"), 4),
    City("山东省", "济南市", "531", 8, ("鲁A",), ("历下区", "市中区", "槐荫区", "历城区", "天桥区"), 3),
    City("山东省", "青岛市", "532", 8, ("鲁B", "鲁U"), ("市南区", "市北区", "崂山区", "黄岛区", "城阳区"), 4),
    City("福建省", "福州市", "591", 8, ("闽A",), ("鼓楼区", "台江区", "仓山区", "晋安区"), 3),
    City("福建省", "厦门市", "592", 7, ("闽D",), ("思明区", "湖里区", "集美区", "海沧区"), 3),
    City("河南省", "郑州市", "371", 8, ("豫A",), ("金水区", "中原区", "二七区", "管城回族区", "惠济区"), 4),
    City("河北省", "石家庄市", "311", 8, ("冀A",), ("长安区", "桥西区", "新华区", "裕华区"), 2),
    City("辽宁省", "沈阳市", "24", 8, ("辽A",), ("和平区", "沈河区", "皇姑区", "铁西区", "浑南区"), 3),
    City("云南省", "昆明市", "871", 8, ("云A",), ("五华区", "盘龙区", "官渡区", "西山区"), 2),
    City("安徽省", "合肥市", "551", 8, ("皖A",), ("蜀山区", "包河区", "庐阳区", "瑶海区"), 3),
    City("广西壮族自治区", "南宁市", "771", 7, ("桂A",), ("青秀区", "兴宁区", "西乡塘区", "江南区"), 2),
)

# Mobile number prefixes of the three carriers and the virtual operators, roughly by how common they are.
MOBILE_PREFIXES: tuple[tuple[str, float], ...] = (
    *((p, 6.0) for p in ("130", "131", "132", "133", "135", "136", "137", "138", "139")),
    ("134", 3.0),
    *((p, 5.0) for p in ("150", "151", "152", "153", "155", "156", "157", "158", "159")),
    *((p, 1.0) for p in ("170", "171", "173", "175", "176", "177", "178")),
    *((p, 6.0) for p in ("180", "181", "182", "183", "185", "186", "187", "188", "189")),
    *((p, 2.0) for p in ("191", "193", "195", "198", "199")),
    ("166", 1.0),
)

ROADS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "长江路",
    "黄河路",
    "滨江大道",
    "迎宾大道",
    "科技园路",
    "创业路",
    "工业大道",
    "东风路",
    "青年路",
    "朝阳路",
    "光明路",
    "学府路",
    "世纪大道",
    "金融街",
    "华侨路",
    "沿江路",
    "环城南路",
    "环城北路",
    "体育路",
    "公园路",
    "站前路",
    "幸福路",
)
COMMUNITIES = (
    "万科城",
    "碧桂园",
    "保利花园",
    "华润城",
    "龙湖天街",
    "绿地新都会",
    "恒大名都",
    "金地格林小城",
    "中海锦城",
    "招商雍景湾",
    "融创壹号院",
    "世茂滨江花园",
    "阳光城",
    "翠苑小区",
    "幸福里",
    "锦绣江南",
    "书香门第",
    "星河湾",
    "紫荆花园",
    "南山花园",
    "东方明珠苑",
    "滨江壹号",
    "梧桐苑",
    "金色家园",
    "城市之光",
)
EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("qq.com", 40),
    ("163.com", 25),
    ("126.com", 10),
    ("foxmail.com", 6),
    ("sina.com", 5),
    ("outlook.com", 5),
    ("139.com", 4),
    ("hotmail.com", 3),
    ("aliyun.com", 2),
)
BRAND_CHARS = (
    "鑫源宏达华盛恒通金鼎嘉和永德润美居博远瑞丰天成锦程东方兴旺泰安隆昌汇利信诚佳合众联宇鸿凯腾飞航顺"
    "中新广大正元光明海洋峰康顺益誉森茂富"
)
TAG_COLORS = (
    "#2563eb",
    "#16a34a",
    "#dc2626",
    "#9333ea",
    "#ea580c",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4f46e5",
    "#059669",
    "#64748b",
    "#b45309",
)

# Cars: (model, share, WMI, new-energy plate letter: "" petrol, D battery, F plug-in hybrid).
CARS: tuple[tuple[str, float, str, str], ...] = (
    ("大众朗逸", 8, "LSV", ""),
    ("大众帕萨特", 4, "LSV", ""),
    ("大众途观L", 4, "LSV", ""),
    ("大众速腾", 4, "LFV", ""),
    ("丰田凯美瑞", 5, "LVG", ""),
    ("丰田卡罗拉", 5, "LTV", ""),
    ("丰田RAV4荣放", 3, "LTV", ""),
    ("本田雅阁", 4, "LHG", ""),
    ("本田CR-V", 3, "LVH", ""),
    ("日产轩逸", 7, "LGB", ""),
    ("别克英朗", 3, "LSG", ""),
    ("吉利星瑞", 3, "L6T", ""),
    ("长安CS75 PLUS", 3, "LS5", ""),
    ("哈弗H6", 4, "LGW", ""),
    ("宝马3系", 2, "LBV", ""),
    ("宝马X3", 2, "LBV", ""),
    ("奔驰C级", 2, "LE4", ""),
    ("奥迪A4L", 2, "LFV", ""),
    ("红旗H5", 1, "LFP", ""),
    ("比亚迪汉EV", 3, "LGX", "D"),
    ("比亚迪秦PLUS DM-i", 5, "LGX", "F"),
    ("比亚迪宋PLUS DM-i", 4, "LGX", "F"),
    ("比亚迪海豚", 2, "LGX", "D"),
    ("特斯拉Model 3", 2, "LRW", "D"),
    ("特斯拉Model Y", 3, "LRW", "D"),
    ("五菱宏光MINIEV", 2, "LZW", "D"),
    ("理想L7", 1, "LW4", "F"),
    ("蔚来ET5", 1, "LJ1", "D"),
    ("小鹏P7", 1, "LMV", "D"),
    ("广汽埃安S", 2, "LMG", "D"),
    ("问界M7", 1, "LM8", "F"),
    ("小米SU7", 1, "LXM", "D"),
)
TRUCKS: tuple[tuple[str, float, str, str], ...] = (
    ("解放J6P", 6, "LFW", ""),
    ("东风天龙KL", 5, "LGA", ""),
    ("重汽豪沃T7H", 5, "LZZ", ""),
    ("陕汽德龙X3000", 4, "LZG", ""),
    ("福田欧曼EST", 3, "LRD", ""),
    ("江淮格尔发", 2, "LJ1", ""),
    ("五十铃ELF", 2, "LWL", ""),
    ("福田奥铃", 3, "LVB", ""),
    ("江铃顺达", 3, "LEF", ""),
    ("依维柯Daily", 1, "LNV", ""),
    ("宇通ZK6120客车", 1, "LZY", ""),
)

# Names of the demo organisation's users (full names are shown in the UI, user names used to sign in).
DEMO_TEAMS = ("华南一组", "华东二组")
DEMO_USERS: tuple[tuple[str, str, str, int | None], ...] = (
    # (username, full name, role, index in DEMO_TEAMS or None)
    ("manager_hn", "李娜", "manager", 0),
    ("sales_hn1", "王磊", "sales", 0),
    ("sales_hn2", "刘洋", "sales", 0),
    ("service_hn", "陈静", "service", 0),
    ("viewer_hn", "赵敏", "viewer", 0),
    ("manager_hd", "周杰", "manager", 1),
    ("sales_hd1", "吴涛", "sales", 1),
    ("sales_hd2", "孙丽", "sales", 1),
    ("service_hd", "徐婷", "service", 1),
    ("viewer_hd", "马超", "viewer", 1),
    ("marketing", "何欣", "marketing", None),
)


@dataclass(frozen=True)
class Trade:
    """What differs between the verticals a demo can show."""

    company_share: float
    company_suffixes: tuple[str, ...]
    contact_titles: tuple[str, ...]
    tags: tuple[str, ...]
    sources: tuple[tuple[str, float], ...]
    notes: tuple[str, ...]
    external_key: str
    external_share: float


TRADES: dict[str, Trade] = {
    "fuel": Trade(
        company_share=0.08,
        company_suffixes=(
            "物流有限公司",
            "运输有限公司",
            "货运有限公司",
            "客运有限公司",
            "冷链物流有限公司",
            "渣土运输有限公司",
        ),
        contact_titles=("车队长", "调度主管", "采购经理", "财务", "总经理"),
        tags=(
            "柴油车队",
            "加油卡会员",
            "夜间客户",
            "网约车司机",
            "出租车",
            "货车司机",
            "洗车套餐",
            "便利店常客",
            "高频加油",
            "企业月结",
            "新能源车主",
            "积分达人",
        ),
        sources=(
            ("walk_in", 45),
            ("wechat", 15),
            ("campaign", 10),
            ("referral", 10),
            ("partner", 8),
            ("phone", 5),
            ("import", 7),
        ),
        notes=(
            "客户询问柴油优惠，已介绍加油卡充值返利活动。",
            "车队月结对账完成，下月加油量预计增加。",
            "客户反映夜间加油排队时间长，已反馈站长。",
            "办理了加油卡，充值1000元，赠送洗车券一张。",
            "电话回访：对便利店服务满意，希望增加早餐品类。",
            "客户咨询开具增值税专用发票的流程。",
            "新能源车主，询问站内充电桩开放时间。",
            "积分即将到期，已短信提醒兑换。",
        ),
        external_key="fuel_card",
        external_share=0.15,
    ),
    "building": Trade(
        company_share=0.15,
        company_suffixes=(
            "建材有限公司",
            "装饰工程有限公司",
            "建筑工程有限公司",
            "装修设计有限公司",
            "房地产开发有限公司",
        ),
        contact_titles=("采购经理", "项目经理", "设计师", "工长", "老板"),
        tags=(
            "装修公司",
            "工程项目",
            "设计师推荐",
            "精装房",
            "别墅客户",
            "老房翻新",
            "瓷砖",
            "卫浴",
            "地板",
            "团购客户",
            "样板间",
            "回头客",
        ),
        sources=(
            ("walk_in", 25),
            ("referral", 25),
            ("web", 10),
            ("wechat", 12),
            ("event", 12),
            ("partner", 10),
            ("phone", 6),
        ),
        notes=(
            "客户到店看了瓷砖样板，倾向800x800灰色系，下周带设计师复看。",
            "工地已进场，约定周五送第一批卫浴产品。",
            "报价已发，客户认为地板价格偏高，需要跟进。",
            "设计师推荐客户，全屋定制意向强。",
            "项目经理反馈工地进度延后两周，送货时间顺延。",
            "客户参加了家装节活动，领取了满减券。",
            "老房翻新，重点关注防水和厨卫改造。",
            "回访：安装完成，客户对施工质量满意。",
        ),
        external_key="erp",
        external_share=0.10,
    ),
    "auto": Trade(
        company_share=0.10,
        company_suffixes=(
            "汽车服务有限公司",
            "物流有限公司",
            "汽车租赁有限公司",
            "出租汽车有限公司",
            "网约车服务有限公司",
            "商贸有限公司",
        ),
        contact_titles=("车管专员", "行政经理", "采购经理", "车队长", "总经理"),
        tags=(
            "新车客户",
            "保养客户",
            "保险续保",
            "二手车置换",
            "延保客户",
            "钣喷客户",
            "车队客户",
            "贷款客户",
            "试驾未成交",
            "高端车主",
            "新能源车主",
            "轮胎更换",
        ),
        sources=(
            ("walk_in", 30),
            ("web", 15),
            ("phone", 10),
            ("referral", 15),
            ("event", 10),
            ("wechat", 12),
            ("campaign", 8),
        ),
        notes=(
            "客户预约了下周六的常规保养，需准备机油滤芯。",
            "保险将于下月到期，已报价续保方案。",
            "试驾后对车型满意，顾虑价格，等待月底活动。",
            "客户咨询二手车置换补贴政策。",
            "钣喷完成，客户取车时对漆面效果满意。",
            "电话回访：首保完成，提醒5000公里后二保。",
            "车队客户要求统一开票，已转财务。",
            "客户更换了四条轮胎，赠送四轮定位一次。",
        ),
        external_key="dms",
        external_share=0.20,
    ),
}

SITE_STAGES: tuple[tuple[str, float], ...] = (
    ("planning", 15),
    ("foundation", 10),
    ("structure", 15),
    ("finishing", 35),
    ("completed", 25),
)
STAGES: tuple[tuple[str, float], ...] = (
    ("lead", 15),
    ("prospect", 10),
    ("customer", 30),
    ("repeat", 20),
    ("loyal", 10),
    ("at_risk", 8),
    ("churned", 7),
)
