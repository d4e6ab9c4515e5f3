#!/usr/bin/env python3
"""Generate kafka-wire's protocol message codecs from Apache Kafka's message specs.

Kafka describes every request and response in JSON files shipped inside the
`kafka-clients` jar (`common/message/*.json`). This script reads them straight
from that jar, so the generated code matches exactly the Kafka version we test
against, and writes one Rust file per message into
`kafka-wire/src/protocol/messages/`. It also writes the error-code table
(`error_code_table.rs`) from a TSV dumped from the same jar by
`codegen/DumpErrors.java`.

Usage (from the repository root):
    python3 kafka-wire/codegen/generate.py [path/to/kafka-clients-X.jar]

Without an argument the jar is taken from the broker cache that
`scripts/broker install kafka` fills. The generated files are committed; re-run
this script only when moving to a new Kafka version.

The generated decoders never allocate based on an unchecked count: every array
count is checked against the bytes left in the frame, using the minimum encoded
size of one element, before anything is reserved.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

KAFKA_VERSION = "4.4.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "src", "protocol", "messages")

# The APIs the client uses (producer, consumer, groups, transactions, admin,
# SASL, and the KIP-848/KIP-1071 group protocols for later issues).
APIS = [
    "Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch",
    "FindCoordinator", "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup",
    "DescribeGroups", "ListGroups", "SaslHandshake", "ApiVersions", "CreateTopics",
    "DeleteTopics", "DeleteRecords", "InitProducerId", "AddPartitionsToTxn",
    "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit", "DescribeConfigs", "AlterConfigs",
    "SaslAuthenticate", "CreatePartitions", "DeleteGroups", "IncrementalAlterConfigs",
    "OffsetDelete", "DescribeCluster", "DescribeProducers", "DescribeTransactions",
    "ListTransactions", "ConsumerGroupHeartbeat", "ConsumerGroupDescribe",
    "StreamsGroupHeartbeat", "StreamsGroupDescribe",
]

RUST_KEYWORDS = {"type", "match", "ref", "mod", "move", "fn", "in", "loop", "self", "struct", "use", "where"}

PRIMS = {
    # spec type: (rust type, reader, writer, fixed size)
    "int8": ("i8", "i8", "put_i8", 1),
    "int16": ("i16", "i16", "put_i16", 2),
    "uint16": ("u16", "u16", "put_u16", 2),
    "int32": ("i32", "i32", "put_i32", 4),
    "uint32": ("u32", "u32", "put_u32", 4),
    "int64": ("i64", "i64", "put_i64", 8),
    "float64": ("f64", "f64", "put_f64", 8),
    "bool": ("bool", "bool", "put_bool", 1),
    "uuid": ("Uuid", "uuid", "put_uuid", 16),
}


def load_json(text):
    lines = [l for l in text.splitlines() if not l.strip().startswith("//")]
    return json.loads("\n".join(lines))


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    return s + "_" if s in RUST_KEYWORDS else s


class Versions:
    """A version range from the spec: "3+", "1-4", "2", "none"."""

    def __init__(self, text):
        text = (text or "none").strip()
        if text == "none":
            self.lo, self.hi = 1, 0
        elif text.endswith("+"):
            self.lo, self.hi = int(text[:-1]), 0x7FFF
        elif "-" in text:
            a, b = text.split("-")
            self.lo, self.hi = int(a), int(b)
        else:
            self.lo = self.hi = int(text)

    def empty(self):
        return self.lo > self.hi

    def intersect(self, other):
        v = Versions("none")
        v.lo, v.hi = max(self.lo, other.lo), min(self.hi, other.hi)
        return v

    def contains_all(self, other):
        return other.empty() or (self.lo <= other.lo and other.hi <= self.hi)

    def cond(self, within):
        """A Rust boolean expression on `version`, simplified against the message's valid range."""
        r = self.intersect(within)
        if r.empty():
            return "false"
        if r.lo <= within.lo and r.hi >= within.hi:
            return "true"
        parts = []
        if r.lo > within.lo:
            parts.append(f"version >= {r.lo}")
        if r.hi < within.hi:
            parts.append(f"version <= {r.hi}")
        return " && ".join(parts)


class Field:
    def __init__(self, spec, parent_versions, msg):
        self.name = spec["name"]
        self.rname = snake(self.name)
        self.type = spec["type"]
        self.about = spec.get("about", "")
        self.versions = Versions(spec.get("versions")).intersect(parent_versions)
        self.nullable = Versions(spec.get("nullableVersions"))
        self.tagged = Versions(spec.get("taggedVersions"))
        self.tag = spec.get("tag")
        self.ignorable = spec.get("ignorable", False)
        self.default = spec.get("default")
        fv = spec.get("flexibleVersions")
        self.flex_override = Versions(fv) if fv is not None else None
        self.fields = None
        if "fields" in spec:
            self.fields = [Field(f, self.versions, msg) for f in spec["fields"]]
        self.msg = msg

    @property
    def is_array(self):
        return self.type.startswith("[]")

    @property
    def elem(self):
        return self.type[2:] if self.is_array else self.type

    def elem_is_struct(self):
        return self.elem not in PRIMS and self.elem not in ("string", "bytes", "records")

    def may_be_null(self):
        return not self.nullable.intersect(self.versions).empty() or self.type == "records"

    def elem_rust(self):
        e = self.elem
        if e in PRIMS:
            return PRIMS[e][0]
        if e == "string":
            return "String"
        if e in ("bytes", "records"):
            return "Bytes"
        return e

    def rust_type(self):
        base = f"Vec<{self.elem_rust()}>" if self.is_array else self.elem_rust()
        return f"Option<{base}>" if self.may_be_null() else base

    def default_expr(self):
        d = self.default
        if isinstance(d, bool):
            d = "true" if d else "false"
        elif isinstance(d, (int, float)):
            d = str(d)
        if self.may_be_null() and (d is None or d == "null"):
            # Kafka's generated code defaults nullable fields without an explicit default to
            # the empty value, except where "null" is given; keep null as the neutral value.
            if d == "null" or self.type == "records":
                return "None"
        if self.is_array:
            inner = f"Vec::<{self.elem_rust()}>::new()"
            return f"Some({inner})" if self.may_be_null() else inner
        e = self.elem
        if e in PRIMS:
            rt = PRIMS[e][0]
            if d is None or d == "":
                v = {"bool": "false", "Uuid": "Uuid::ZERO", "f64": "0.0"}.get(rt, "0")
            elif rt == "bool":
                v = d
            elif rt == "f64":
                v = str(float(d))
            elif rt == "Uuid":
                v = "Uuid::ZERO"
            else:
                v = str(int(d, 0))
                n = int(v)
                if rt == "i32" and n == -2147483648:
                    v = "i32::MIN"
                elif rt == "i64" and n == 9223372036854775807:
                    v = "i64::MAX"
            return f"Some({v})" if self.may_be_null() else v
        if e == "string":
            v = f"String::from({json.dumps(d)})" if d not in (None, "null") else "String::new()"
            return f"Some({v})" if self.may_be_null() else v
        if e in ("bytes", "records"):
            return "Some(Bytes::new())" if self.may_be_null() else "Bytes::new()"
        # struct
        return "None" if self.may_be_null() else f"{e}::default()"


class Message:
    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        self.api_key = spec.get("apiKey")
        self.kind = spec["type"]
        self.valid = Versions(spec["validVersions"])
        self.flexible = Versions(spec.get("flexibleVersions", "none"))
        self.unstable = spec.get("latestVersionUnstable", False)
        self.fields = [Field(f, self.valid, self) for f in spec.get("fields", [])]
        self.common = {}
        for cs in spec.get("commonStructs", []):
            self.common[cs["name"]] = [Field(f, self.valid, self) for f in cs["fields"]]
        # struct name -> fields, collected in order of first appearance
        self.structs = [(self.name, self.fields)]
        seen = {self.name}

        def walk(fields):
            for f in fields:
                if f.elem_is_struct():
                    sub = f.fields if f.fields is not None else self.common.get(f.elem)
                    if sub is None:
                        raise SystemExit(f"{self.name}: unknown struct type {f.elem}")
                    if f.elem not in seen:
                        seen.add(f.elem)
                        self.structs.append((f.elem, sub))
                        walk(sub)

        walk(self.fields)


def flex_expr(field, msg):
    """Expression: does this field use the compact (flexible) encoding?"""
    if field.flex_override is not None:
        return msg.flexible.intersect(field.flex_override).cond(msg.valid) if not field.flex_override.empty() else "false"
    return "flexible"


def gen_struct(msg, sname, fields, out, path):
    valid = msg.valid
    doc = f"Generated from `{msg.name}.json` (Kafka {KAFKA_VERSION})."
    out.append(f"/// {sname}: {'the top-level message' if sname == msg.name else 'a nested structure of `' + msg.name + '`'}. {doc}")
    out.append("#[derive(Debug, Clone, PartialEq)]")
    out.append(f"pub struct {sname} {{")
    for f in fields:
        if f.versions.empty():
            continue
        about = f.about.replace("\n", " ").strip()
        vtxt = f"versions {f.versions.lo}+" if f.versions.hi >= 0x7FFF else f"versions {f.versions.lo}-{f.versions.hi}"
        if about:
            out.append(f"    /// {about} ({vtxt})")
        else:
            out.append(f"    /// ({vtxt})")
        out.append(f"    pub {f.rname}: {f.rust_type()},")
    out.append("    /// Tagged fields this version of the code does not know, kept for re-encoding.")
    out.append("    pub unknown_tagged_fields: Vec<(u32, Bytes)>,")
    out.append("}")
    out.append("")
    # Default
    out.append(f"impl Default for {sname} {{")
    out.append("    fn default() -> Self {")
    out.append("        Self {")
    for f in fields:
        if f.versions.empty():
            continue
        out.append(f"            {f.rname}: {f.default_expr()},")
    out.append("            unknown_tagged_fields: Vec::new(),")
    out.append("        }")
    out.append("    }")
    out.append("}")
    out.append("")

    live = [f for f in fields if not f.versions.empty()]
    untagged = [f for f in live if f.tag is None]
    tagged = [f for f in live if f.tag is not None]
    has_flex = not msg.flexible.intersect(valid).empty()

    # min_size
    out.append(f"impl {sname} {{")
    out.append("    /// The fewest bytes one encoded value can take at `version`; used to bound array counts.")
    out.append("    #[allow(unused_variables)]")
    out.append("    pub fn min_size(version: i16) -> usize {")
    terms = []
    for f in untagged:
        c = f.versions.cond(valid)
        if f.is_array or f.elem in ("string", "bytes", "records"):
            size = "1"  # a compact length is at least one byte, a classic one more
            size = "(if flexible { 1 } else { 4 })" if (f.is_array or f.elem in ("bytes", "records")) else "(if flexible { 1 } else { 2 })"
        elif f.elem in PRIMS:
            size = str(PRIMS[f.elem][3])
        else:
            size = f"{f.elem}::min_size(version)" if not f.may_be_null() else "1"
        terms.append(size if c == "true" else f"(if {c} {{ {size} }} else {{ 0 }})")
    if has_flex:
        terms.append("(if flexible { 1 } else { 0 })")
    out.append(f"        let flexible = {msg.flexible.cond(valid)};")
    out.append("        0" + "".join(f"\n            + {t}" for t in terms))
    out.append("    }")
    out.append("}")
    out.append("")

    # Example values for round-trip tests: every field present at `version` set to a
    # non-default value.
    out.append("#[cfg(test)]")
    out.append(f"impl {sname} {{")
    out.append("    #[allow(unused_variables, unused_mut, clippy::all)]")
    out.append("    pub(crate) fn example(version: i16) -> Self {")
    out.append("        let mut this = Self::default();")
    for f in live:
        c = (f.tagged.intersect(f.versions) if f.tag is not None else f.versions).cond(valid)
        if c == "false":
            continue
        v = example_value(f)
        out.append(f"        if {c} {{ this.{f.rname} = {v}; }}")
    out.append("        this")
    out.append("    }")
    out.append("}")
    out.append("")

    # Encode
    out.append(f"impl Encode for {sname} {{")
    out.append("    #[allow(unused_variables)]")
    out.append("    fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {")
    out.append(f"        let flexible = {msg.flexible.cond(valid)};")
    for f in untagged:
        gen_encode_field(msg, sname, f, out, "        ")
    if has_flex:
        out.append("        if flexible {")
        out.append("            let mut tagged = TaggedFieldsWriter::default();")
        for f in sorted(tagged, key=lambda x: x.tag):
            c = f.tagged.intersect(f.versions).cond(valid)
            out.append(f"            if {c} && self.{f.rname} != {f.default_expr()} {{")
            out.append("                let tb = &mut BytesMut::new();")
            gen_encode_value(msg, f, f"self.{f.rname}", out, "                ", "tb", flex_override="true")
            out.append(f"                tagged.push({f.tag}, tb.split().freeze());")
            out.append("            }")
        out.append("            tagged.write(buf, &self.unknown_tagged_fields);")
        out.append("        }")
    out.append("        Ok(())")
    out.append("    }")
    out.append("}")
    out.append("")

    # Decode
    out.append(f"impl Decode for {sname} {{")
    out.append("    #[allow(unused_variables, unused_mut)]")
    out.append("    fn decode(buf: &mut ReadBuf, version: i16) -> Result<Self, DecodeError> {")
    out.append(f"        let flexible = {msg.flexible.cond(valid)};")
    out.append("        let mut this = Self::default();")
    for f in untagged:
        c = f.versions.cond(valid)
        fp = f"{path}.{f.name}"
        expr = gen_decode_value(msg, f, "buf", fp)
        if c == "true":
            out.append(f"        this.{f.rname} = {expr};")
        elif c != "false":
            out.append(f"        if {c} {{")
            out.append(f"            this.{f.rname} = {expr};")
            out.append("        }")
    if has_flex:
        out.append("        if flexible {")
        out.append(f"            let count = buf.unsigned_varint({json.dumps(path + '._tagged_fields')})?;")
        out.append("            for _ in 0..count {")
        out.append(f"                let (tag, mut tb) = buf.tagged_field({json.dumps(path + '._tagged_fields')})?;")
        out.append("                match tag {")
        for f in sorted(tagged, key=lambda x: x.tag):
            c = f.tagged.intersect(f.versions).cond(valid)
            guard = "" if c == "true" else f" if {c}"
            fp = f"{path}.{f.name}"
            out.append(f"                    {f.tag}{guard} => {{")
            out.append(f"                        let flexible = true;")
            out.append("                        let tb = &mut tb;")
            out.append(f"                        this.{f.rname} = {gen_decode_value(msg, f, 'tb', fp)};")
            out.append("                    }")
        out.append("                    _ => this.unknown_tagged_fields.push((tag, tb.into_bytes())),")
        out.append("                }")
        out.append("            }")
        out.append("        }")
    out.append("        Ok(this)")
    out.append("    }")
    out.append("}")
    out.append("")


def example_scalar(elem):
    if elem in PRIMS:
        rt = PRIMS[elem][0]
        return {"bool": "true", "Uuid": "Uuid([7; 16])", "f64": "1.5"}.get(rt, "7")
    if elem == "string":
        return 'String::from("s")'
    if elem in ("bytes", "records"):
        return 'Bytes::from_static(b"b")'
    return f"{elem}::example(version)"


def example_value(f):
    one = example_scalar(f.elem)
    v = f"vec![{one}, {one}]" if f.is_array else one
    return f"Some({v})" if f.may_be_null() else v


def gen_encode_field(msg, sname, f, out, ind):
    c = f.versions.cond(msg.valid)
    fp = json.dumps(f"{sname}.{f.name}")
    if c == "true":
        gen_encode_value(msg, f, f"self.{f.rname}", out, ind, "buf")
        return
    if c != "false":
        out.append(f"{ind}if {c} {{")
        gen_encode_value(msg, f, f"self.{f.rname}", out, ind + "    ", "buf")
        if f.ignorable:
            out.append(f"{ind}}}")
        else:
            out.append(f"{ind}}} else if self.{f.rname} != {f.default_expr()} {{")
            out.append(f"{ind}    return Err(EncodeError::FieldNotSupported {{ field: {fp}, version }});")
            out.append(f"{ind}}}")
    elif not f.ignorable:
        out.append(f"{ind}if self.{f.rname} != {f.default_expr()} {{")
        out.append(f"{ind}    return Err(EncodeError::FieldNotSupported {{ field: {fp}, version }});")
        out.append(f"{ind}}}")


def gen_encode_value(msg, f, val, out, ind, buf, flex_override=None):
    flex = flex_override or flex_expr(f, msg)
    fp = json.dumps(f"{msg.name}.{f.name}")
    nullable_c = f.nullable.intersect(f.versions).cond(msg.valid) if f.type != "records" else "true"
    if f.may_be_null():
        out.append(f"{ind}match &{val} {{")
        out.append(f"{ind}    None => {{")
        if nullable_c != "true":
            out.append(f"{ind}        if !({nullable_c}) {{ return Err(EncodeError::NullNotAllowed {{ field: {fp}, version }}); }}")
        if f.is_array:
            out.append(f"{ind}        wire::put_null_array({buf}, {flex});")
        elif f.elem == "string":
            out.append(f"{ind}        wire::put_null_string({buf}, {flex});")
        elif f.elem in ("bytes", "records"):
            out.append(f"{ind}        wire::put_null_bytes({buf}, {flex});")
        else:
            out.append(f"{ind}        {buf}.put_i8(-1);")
        out.append(f"{ind}    }}")
        out.append(f"{ind}    Some(v) => {{")
        if not f.is_array and f.elem_is_struct():
            out.append(f"{ind}        {buf}.put_i8(1);")
        gen_encode_present(msg, f, "v", out, ind + "        ", buf, flex, fp)
        out.append(f"{ind}    }}")
        out.append(f"{ind}}}")
    else:
        gen_encode_present(msg, f, f"&{val}", out, ind, buf, flex, fp)


def gen_encode_present(msg, f, ref, out, ind, buf, flex, fp):
    if f.is_array:
        out.append(f"{ind}wire::put_array_len({buf}, {flex}, ({ref}).len(), {fp})?;")
        out.append(f"{ind}for item in ({ref}).iter() {{")
        gen_encode_scalar(f.elem, "item", out, ind + "    ", buf, flex, fp)
        out.append(f"{ind}}}")
    else:
        gen_encode_scalar(f.elem, ref, out, ind, buf, flex, fp)


def gen_encode_scalar(elem, ref, out, ind, buf, flex, fp):
    if elem in PRIMS:
        out.append(f"{ind}wire::{PRIMS[elem][2]}({buf}, *{ref});")
    elif elem == "string":
        out.append(f"{ind}wire::put_string({buf}, {flex}, {ref}, {fp})?;")
    elif elem in ("bytes", "records"):
        out.append(f"{ind}wire::put_bytes({buf}, {flex}, {ref}, {fp})?;")
    else:
        out.append(f"{ind}({ref}).encode({buf}, version)?;")


def gen_decode_value(msg, f, buf, fp):
    flex = flex_expr(f, msg)
    fpq = json.dumps(fp)
    nullable_c = f.nullable.intersect(f.versions).cond(msg.valid) if f.type != "records" else "true"
    if f.is_array:
        e = f.elem
        if e in PRIMS:
            minsz = str(PRIMS[e][3])
            item = f"b.{PRIMS[e][1]}({fpq})"
        elif e == "string":
            minsz = f"if {flex} {{ 1 }} else {{ 2 }}"
            item = f"b.string({flex}, {fpq})"
        elif e in ("bytes", "records"):
            minsz = f"if {flex} {{ 1 }} else {{ 4 }}"
            item = f"b.bytes({flex}, {fpq})"
        else:
            minsz = f"{e}::min_size(version)"
            item = f"{e}::decode(b, version)"
        call = f"{buf}.array({flex}, {minsz}, {fpq}, |b| {item})?"
        if f.may_be_null():
            return call if nullable_c == "true" else f"Some({buf}.array({flex}, {minsz}, {fpq}, |b| {item})?.ok_or_else(|| DecodeError::null({fpq}))?)"
        return f"{buf}.array({flex}, {minsz}, {fpq}, |b| {item})?.ok_or_else(|| DecodeError::null({fpq}))?"
    e = f.elem
    if e in PRIMS:
        v = f"{buf}.{PRIMS[e][1]}({fpq})?"
        return f"Some({v})" if f.may_be_null() else v
    if e == "string":
        if f.may_be_null():
            return f"{buf}.nullable_string({flex}, {fpq})?"
        return f"{buf}.string({flex}, {fpq})?"
    if e in ("bytes", "records"):
        if f.may_be_null():
            return f"{buf}.nullable_bytes({flex}, {fpq})?"
        return f"{buf}.bytes({flex}, {fpq})?"
    if f.may_be_null():
        return f"if {buf}.i8({fpq})? < 0 {{ None }} else {{ Some({e}::decode({buf}, version)?) }}"
    return f"{e}::decode({buf}, version)?"


HEADER = """// @generated by kafka-wire/codegen/generate.py from Apache Kafka {kv}'s `{src}`.
// Do not edit by hand: change the generator and re-run it.
#![allow(clippy::all, clippy::pedantic, missing_docs, unused_parens, unused_mut, unused_imports)]

use bytes::{{Bytes, BytesMut}};

use crate::protocol::wire::{{self, Decode, DecodeError, Encode, EncodeError, ReadBuf, TaggedFieldsWriter, Uuid}};
"""


def module_name(msg_name):
    return snake(msg_name)


MAX_FILE_LINES = 800


def finish(text):
    # BufMut is needed only where put_i8 is called directly.
    if ".put_i8(" in text:
        text = text.replace("use bytes::{Bytes, BytesMut};", "use bytes::{BufMut, Bytes, BytesMut};", 1)
    return text.rstrip() + "\n"


def render_structs(msg):
    """(struct name, generated code) for each structure of the message, top-level first."""
    parts = []
    for sname, fields in msg.structs:
        out = []
        gen_struct(msg, sname, fields, out, sname)
        parts.append((sname, "\n".join(out)))
    return parts


def rustfmt_lines(text):
    res = subprocess.run(["rustfmt", "--edition", "2021", "--emit", "stdout"], input=text,
                         capture_output=True, text=True, check=True)
    return res.stdout.count("\n")


def write_message(msg, src, module):
    """One file per message; a message whose file would pass MAX_FILE_LINES once formatted
    becomes a directory with one file per structure (the top-level one in mod.rs)."""
    header = HEADER.format(kv=KAFKA_VERSION, src=src)
    parts = render_structs(msg)
    single = finish(header + "\n" + "\n".join(code for _, code in parts))
    if len(parts) == 1 or rustfmt_lines(single) <= MAX_FILE_LINES:
        with open(os.path.join(OUT, module + ".rs"), "w") as fh:
            fh.write(single)
        return
    folder = os.path.join(OUT, module)
    os.makedirs(folder, exist_ok=True)
    nested = parts[1:]
    decls = []
    for sname, code in nested:
        sub = snake(sname)
        decls.append(f"mod {sub};\npub use {sub}::{sname};")
        with open(os.path.join(folder, sub + ".rs"), "w") as fh:
            fh.write(finish(header + "\n#[allow(unused_imports)]\nuse super::*;\n\n" + code))
    with open(os.path.join(folder, "mod.rs"), "w") as fh:
        fh.write(finish(header + "\n" + "\n".join(decls) + "\n\n" + parts[0][1]))


def main():
    jar = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser(
        f"~/.cache/kafka-wire-testbed/kafka-{KAFKA_VERSION}/libs/kafka-clients-{KAFKA_VERSION}.jar")
    z = zipfile.ZipFile(jar)
    # Everything in OUT is generated: start from an empty folder so no stale file survives.
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)
    mods = []
    apis = []
    for api in APIS:
        pair = {}
        for kind in ("Request", "Response"):
            name = f"{api}{kind}"
            spec = load_json(z.read(f"common/message/{name}.json").decode())
            msg = Message(spec)
            write_message(msg, f"common/message/{name}.json", module_name(name))
            mods.append(module_name(name))
            pair[kind] = msg
        req, resp = pair["Request"], pair["Response"]
        apis.append((api, req, resp))
    # Headers, and the consumer protocol's embedded "data" schemas (the subscription and
    # assignment carried as opaque bytes inside JoinGroup/SyncGroup).
    for hdr in ("RequestHeader", "ResponseHeader", "ConsumerProtocolSubscription",
                "ConsumerProtocolAssignment"):
        msg = Message(load_json(z.read(f"common/message/{hdr}.json").decode()))
        write_message(msg, f"common/message/{hdr}.json", module_name(hdr))
        mods.append(module_name(hdr))

    lines = [
        f"//! Request and response types for every API the client speaks, generated from",
        f"//! Apache Kafka {KAFKA_VERSION}'s message specs by `kafka-wire/codegen/generate.py`.",
        "//!",
        "//! Each message is a plain struct with public fields named as in the Kafka protocol",
        "//! guide (snake_case). [`ApiKey`] lists the APIs with the versions this crate can",
        "//! encode and decode; the [`Request`](crate::protocol::Request) trait ties a request to its",
        "//! response.",
        "// @generated: do not edit by hand.",
        "",
    ]
    for m in sorted(mods):
        lines.append(f"pub mod {m};")
    lines.append("")
    for api, req, resp in apis:
        lines.append(f"pub use {module_name(req.name)}::{req.name};")
        lines.append(f"pub use {module_name(resp.name)}::{resp.name};")
    lines.append("pub use consumer_protocol_assignment::ConsumerProtocolAssignment;")
    lines.append("pub use consumer_protocol_subscription::ConsumerProtocolSubscription;")
    lines.append("pub use request_header::RequestHeader;")
    lines.append("pub use response_header::ResponseHeader;")
    lines.append("")
    lines.append("/// The Kafka APIs this crate implements, with their wire key.")
    lines.append("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]")
    lines.append("#[repr(i16)]")
    lines.append("pub enum ApiKey {")
    for api, req, _ in sorted(apis, key=lambda a: a[1].api_key):
        lines.append(f"    /// `{api}` (key {req.api_key}).")
        lines.append(f"    {api} = {req.api_key},")
    lines.append("}")
    lines.append("")
    lines.append("impl ApiKey {")
    lines.append("    /// Every API this crate implements, by key.")
    lines.append("    pub const ALL: &'static [ApiKey] = &[")
    for api, req, _ in sorted(apis, key=lambda a: a[1].api_key):
        lines.append(f"        ApiKey::{api},")
    lines.append("    ];")
    lines.append("")
    lines.append("    /// The API for a wire key, if this crate implements it.")
    lines.append("    pub fn from_i16(key: i16) -> Option<ApiKey> {")
    lines.append("        Self::ALL.iter().copied().find(|k| *k as i16 == key)")
    lines.append("    }")
    lines.append("")
    lines.append("    /// The name Kafka uses for this API, as in the protocol guide.")
    lines.append("    pub fn name(self) -> &'static str {")
    lines.append("        match self {")
    for api, req, _ in apis:
        lines.append(f"            ApiKey::{api} => {json.dumps(api)},")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// The versions this crate can speak: the spec's valid range, without a version Kafka")
    lines.append("    /// marks as unstable.")
    lines.append("    pub fn supported_versions(self) -> (i16, i16) {")
    lines.append("        match self {")
    for api, req, resp in apis:
        hi = min(req.valid.hi, resp.valid.hi) - (1 if req.unstable else 0)
        lines.append(f"            ApiKey::{api} => ({max(req.valid.lo, resp.valid.lo)}, {hi}),")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// Request header version at `version` (2 when the request is flexible, else 1).")
    lines.append("    pub fn request_header_version(self, version: i16) -> i16 {")
    lines.append("        match self {")
    for api, req, _ in apis:
        lo = req.flexible.lo
        lines.append(f"            ApiKey::{api} => {'if version >= ' + str(lo) + ' { 2 } else { 1 }' if not req.flexible.empty() else '1'},")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// Response header version at `version` (1 when flexible, else 0; ApiVersions always 0).")
    lines.append("    pub fn response_header_version(self, version: i16) -> i16 {")
    lines.append("        match self {")
    for api, _, resp in apis:
        if api == "ApiVersions" or resp.flexible.empty():
            lines.append(f"            ApiKey::{api} => {{ let _ = version; 0 }}")
        else:
            lines.append(f"            ApiKey::{api} => if version >= {resp.flexible.lo} {{ 1 }} else {{ 0 }},")
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    lines.append("")
    lines.append("macro_rules! impl_request {")
    lines.append("    ($($req:ident => $resp:ident : $key:ident),* $(,)?) => {")
    lines.append("        $(impl crate::protocol::Request for $req {")
    lines.append("            const API_KEY: ApiKey = ApiKey::$key;")
    lines.append("            type Response = $resp;")
    lines.append("        })*")
    lines.append("    };")
    lines.append("}")
    lines.append("")
    lines.append("impl_request! {")
    for api, req, resp in apis:
        lines.append(f"    {req.name} => {resp.name} : {api},")
    lines.append("}")
    lines.append("")
    lines.append("/// Decode the body of any response this crate implements (fuzzing, test brokers, tools).")
    lines.append("pub fn decode_response_body(")
    lines.append("    api: ApiKey,")
    lines.append("    version: i16,")
    lines.append("    buf: &mut crate::protocol::wire::ReadBuf,")
    lines.append(") -> Result<Box<dyn std::fmt::Debug>, crate::protocol::wire::DecodeError> {")
    lines.append("    use crate::protocol::wire::Decode;")
    lines.append("    Ok(match api {")
    for api, req, resp in apis:
        lines.append(f"        ApiKey::{api} => Box::new({resp.name}::decode(buf, version)?),")
    lines.append("    })")
    lines.append("}")
    lines.append("")
    for api, req, resp in apis:
        has = any(f.name == "ThrottleTimeMs" and f.type == "int32" for f in resp.fields)
        cond = resp.fields and next((f for f in resp.fields if f.name == "ThrottleTimeMs"), None)
        lines.append(f"impl crate::protocol::Response for {resp.name} {{")
        lines.append("    fn throttle_time_ms(&self) -> Option<i32> {")
        lines.append(f"        {'Some(self.throttle_time_ms)' if has else 'None'}")
        lines.append("    }")
        lines.append("}")
    lines.append("")
    lines.append("#[cfg(test)]")
    lines.append("mod round_trip {")
    lines.append("    use super::*;")
    lines.append("    use crate::protocol::wire::{Decode, Encode, ReadBuf};")
    lines.append("    use bytes::BytesMut;")
    lines.append("")
    lines.append("    fn check<T: Encode + Decode + PartialEq + std::fmt::Debug>(value: T, version: i16) {")
    lines.append("        let mut buf = BytesMut::new();")
    lines.append("        value.encode(&mut buf, version).unwrap_or_else(|e| panic!(\"{e}\"));")
    lines.append("        let mut read = ReadBuf::new(buf.freeze());")
    lines.append("        let back = T::decode(&mut read, version).unwrap_or_else(|e| panic!(\"v{version}: {e}\"));")
    lines.append("        assert_eq!(read.remaining(), 0, \"v{version}: bytes left over\");")
    lines.append("        assert_eq!(back, value, \"v{version}\");")
    lines.append("    }")
    lines.append("")
    lines.append("    /// Every field set, every message, every version of Kafka's spec: decode(encode(x)) == x.")
    lines.append("    #[test]")
    lines.append("    fn every_message_at_every_version() {")
    for api, req, resp in apis:
        for m in (req, resp):
            lines.append(f"        for v in {m.valid.lo}..={m.valid.hi} {{ check({m.name}::example(v), v); }}")
    lines.append("        for v in 1..=2 { check(RequestHeader::example(v), v); }")
    lines.append("        for v in 0..=1 { check(ResponseHeader::example(v), v); }")
    lines.append("    }")
    lines.append("")
    lines.append("    fn stable<T: Encode + Decode + PartialEq + std::fmt::Debug>(data: &[u8], version: i16) {")
    lines.append("        let Ok(first) = T::decode(&mut ReadBuf::new(bytes::Bytes::copy_from_slice(data)), version) else { return };")
    lines.append("        let mut buf = BytesMut::new();")
    lines.append("        // The decoder is lenient where the encoder is strict (e.g. null in a field that is only")
    lines.append("        // nullable in later versions); such values are not re-encodable by design.")
    lines.append("        if first.encode(&mut buf, version).is_err() { return; }")
    lines.append("        let second = T::decode(&mut ReadBuf::new(buf.freeze()), version).expect(\"re-encoded value decodes\");")
    lines.append("        assert_eq!(first, second);")
    lines.append("    }")
    lines.append("")
    lines.append("    proptest::proptest! {")
    lines.append("        /// Random bytes never panic a decoder, and whatever decodes re-encodes to bytes that")
    lines.append("        /// decode to the same value (requests and responses of every API).")
    lines.append("        #[test]")
    lines.append("        fn decode_encode_decode_is_stable(api in 0usize..ApiKey::ALL.len(), v in 0i16..20, data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {")
    lines.append("            let api = ApiKey::ALL[api];")
    lines.append("            let (lo, hi) = api.supported_versions();")
    lines.append("            let version = lo + v % (hi - lo + 1);")
    lines.append("            match api {")
    for api, req, resp in apis:
        lines.append(f"                ApiKey::{api} => {{ stable::<{req.name}>(&data, version); stable::<{resp.name}>(&data, version); }}")
    lines.append("            }")
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    write_module(lines)

    gen_errors(jar)
    files = [os.path.join(d, f) for d, _, fs in os.walk(OUT) for f in fs if f.endswith(".rs")]
    files.append(os.path.join(ROOT, "src", "protocol", "error_code_table.rs"))
    subprocess.run(["rustfmt", "--edition", "2021", *files], check=True)
    print(f"generated {len(mods)} message files into {OUT}")


def write_module(lines):
    """Split the module into mod.rs (declarations), api_key.rs (ApiKey and the Request impls),
    responses.rs (response dispatch and the Response impls) and round_trip.rs (tests)."""
    i_api = lines.index("/// The Kafka APIs this crate implements, with their wire key.")
    i_resp = lines.index("/// Decode the body of any response this crate implements (fuzzing, test brokers, tools).")
    i_test = lines.index("mod round_trip {") - 1
    head = "// @generated by kafka-wire/codegen/generate.py: do not edit by hand.\n\nuse super::*;\n\n"
    parts = {
        "api_key.rs": lines[i_api:i_resp],
        "responses.rs": lines[i_resp:i_test],
        "round_trip.rs": [l[4:] if l.startswith("    ") else l for l in lines[i_test + 3 : -1]],
    }
    for name, body in parts.items():
        prefix = head
        if name == "round_trip.rs":
            body = [l for l in body if l.strip() != "use super::*;"]
        with open(os.path.join(OUT, name), "w") as fh:
            fh.write(prefix + "\n".join(body) + "\n")
    decls = lines[:i_api] + [
        "mod api_key;",
        "mod responses;",
        "#[cfg(test)]",
        "mod round_trip;",
        "",
        "pub use api_key::ApiKey;",
        "pub use responses::decode_response_body;",
    ]
    with open(os.path.join(OUT, "mod.rs"), "w") as fh:
        fh.write("\n".join(decls) + "\n")


def gen_errors(jar):
    """Dump Kafka's `Errors` enum (code, name, retriable, invalidates metadata, message)."""
    libs = os.path.dirname(jar)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "DumpErrors.java")
    res = subprocess.run(["java", "-cp", os.path.join(libs, "*"), src], capture_output=True, text=True, check=True)
    rows = []
    for line in res.stdout.splitlines():
        code, name, retriable, invalid_meta, text = line.split("\t", 4)
        rows.append((int(code), name, retriable == "true", invalid_meta == "true", text))
    out = [
        f"// @generated by kafka-wire/codegen/generate.py from Apache Kafka {KAFKA_VERSION}'s",
        "// `org.apache.kafka.common.protocol.Errors`: code, name, whether the Java client treats it",
        "// as retriable, whether it invalidates cached metadata, and the broker's description.",
        "",
        "/// (code, name, retriable, invalidates metadata, description)",
        "pub(crate) const ERROR_TABLE: &[(i16, &str, bool, bool, &str)] = &[",
    ]
    for code, name, r, m, text in rows:
        out.append(f"    ({code}, {json.dumps(name)}, {str(r).lower()}, {str(m).lower()}, {json.dumps(text)}),")
    out.append("];")
    out.append("")
    out.append("#[allow(missing_docs)]")
    out.append("impl super::ErrorCode {")
    for code, name, r, m, text in rows:
        out.append(f"    pub const {name}: Self = Self({code});")
    out.append("}")
    with open(os.path.join(ROOT, "src", "protocol", "error_code_table.rs"), "w") as fh:
        fh.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
