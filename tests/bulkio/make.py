"""Build import files for the tests: CSV in a chosen encoding or XLSX, from a header and rows."""

from __future__ import annotations

import csv
import io

from powercis.core.bulkio import services
from powercis.core.models import Org

CUSTOMER_HEADER = ["客户编号", "客户名称", "客户分类", "证件类型", "证件号码", "手机号码", "供电单位编码"]
ACCOUNT_HEADER = ["户号", "客户编号", "用电地址", "立户日期", "用电类别", "供电电压", "合同容量(kVA)",
                  "基本电费计收方式", "功率因数考核标准", "供电单位编码"]

#: valid check characters (GB 11643 / GB 32100)
ID_NUMBERS = ("11010519491231002X", "420102199001011236", "440305198001010013")
USCC = "91350100M000100Y43"


def csv_bytes(header, rows, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header, rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(actor, entity: str, content: bytes, org: str = "HZ0101", name: str = "test.csv"):
    return services.validate_upload(actor, entity=entity, org=Org.objects.get(code=org), file_name=name,
                                    content=content)


def customers_file(rows=None, encoding: str = "utf-8") -> bytes:
    rows = rows if rows is not None else [
        ["C100", "张三", "LV_R", "身份证", ID_NUMBERS[0], "13812345678", "HZ010101"],
        ["C101", "李四", "低压居民客户", "", ID_NUMBERS[1], "13987654321", ""],
        ["C102", "临江机械有限公司", "HV", "USCC", USCC, "", "HZ010102"],
    ]
    return csv_bytes(CUSTOMER_HEADER, rows, encoding)


def accounts_file(rows=None, encoding: str = "utf-8") -> bytes:
    rows = rows if rows is not None else [
        ["1000000001", "C100", "城关镇幸福路1号", "2024-03-01", "RES_T", "AC220V", "", "", "", "HZ010101"],
        ["1000000002", "C102", "河口工业园8号", "2023/7/15", "CI_2", "AC10KV", "630", "按容量", "0.90", "HZ010102"],
    ]
    return csv_bytes(ACCOUNT_HEADER, rows, encoding)


def reasons(batch) -> list[tuple[int, str, str, str]]:
    return [(e.row, e.column, e.value, e.reason) for e in services.errors_of(batch)]
