"""``powercis dlt645``: decode a DL/T 645-2007 frame or build a read request (domain/metering-audit.md §5).

Metering staff and integrators check captures from serial servers and concentrators with it:
``powercis dlt645 decode 68 01 00 …`` prints the frame as JSON (addresses as nameplate numbers,
values with names and units); ``powercis dlt645 encode-read 000000000001 00010000`` prints the
request to send.  Bad input (not hex, a broken frame, a bad checksum, an unknown data identifier,
an address that is not 12 digits) exits with status 2 and says why on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from powercis.reading.collection import dlt645

#: exit status for input the command cannot use (argparse uses the same for bad options)
EXIT_BAD_INPUT = 2


def decode_hex(parts: Sequence[str], *, strict: bool = True) -> dict[str, Any]:
    """Hex text (split over several arguments or one quoted string) → the frame as a JSON-ready dict."""
    try:
        return dlt645.decode(dlt645.parse_hex(" ".join(parts)), strict=strict).to_json()
    except dlt645.Dlt645Error as error:
        raise CommandError(_("Cannot decode the frame (%(code)s): %(reason)s")
                           % {"code": error.code, "reason": error.message}, returncode=EXIT_BAD_INPUT) from error


def encode_read_hex(address: str, di: str, *, preamble: bool = True) -> str:
    """A read request for ``di`` from meter ``address`` as spaced uppercase hex."""
    try:
        return dlt645.to_hex(dlt645.encode_read(address, di, preamble=preamble))
    except dlt645.Dlt645Error as error:
        raise CommandError(_("Cannot build the request (%(code)s): %(reason)s")
                           % {"code": error.code, "reason": error.message}, returncode=EXIT_BAD_INPUT) from error


class Command(BaseCommand):
    help = "DL/T 645-2007 报文解析与组帧 / Decode DL/T 645-2007 frames and build read requests."
    # Works on bytes only: no database, so no system or migration checks before it runs.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True, metavar="<subcommand>",
                                            title="子命令 / subcommands")
        decode = subcommands.add_parser(
            "decode",
            help="解析一帧报文并以 JSON 输出 / decode one frame and print it as JSON",
            description=("解析一帧 DL/T 645-2007 报文（十六进制，可含空格和 FE 前导）。 / Decode one DL/T 645-2007 "
                         "frame given in hex (spaces and an FE preamble allowed)."),
        )
        decode.add_argument("hex", nargs="+", metavar="HEX",
                            help="报文，如 68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16 / the frame")
        decode.add_argument("--allow-unknown-di", action="store_true",
                            help="未知数据标识时仍输出原始数据 / print the raw data of an unknown data identifier "
                                 "instead of refusing it")
        encode = subcommands.add_parser(
            "encode-read",
            help="生成读数据请求帧 / build a read-data request frame",
            description=("按表地址和数据标识生成读数据请求（控制码 11）。 / Build the read-data request "
                         "(control code 11) for a meter address and a data identifier."),
        )
        encode.add_argument("address", help="表地址，12 位数字，如 000000000001 / meter address, 12 digits")
        encode.add_argument("di", help="数据标识，8 位十六进制，如 00010000 / data identifier, 8 hex digits")
        encode.add_argument("--no-preamble", action="store_true",
                            help="不加 FE FE FE FE 唤醒前导 / omit the FE FE FE FE wake-up preamble")

    def handle(self, *args, **options):
        if options["subcommand"] == "decode":
            frame = decode_hex(options["hex"], strict=not options["allow_unknown_di"])
            self.stdout.write(json.dumps(frame, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(encode_read_hex(options["address"], options["di"], preamble=not options["no_preamble"]))
