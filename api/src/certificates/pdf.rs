//! The certificate as a one-page A4 PDF, built with `lopdf` (a maintained PDF object library;
//! we only lay out text). Chinese text uses the standard Adobe-GB1 font `STSong-Light` with the
//! predefined `UniGB-UTF16-H` CMap, which every PDF reader supplies, so no 10-MB CJK font has to
//! be embedded and the file stays a few kilobytes; text stays selectable and searchable.

use chrono::NaiveDate;
use entity::service_certificate as cert;
use lopdf::{
    Document, Object, Stream, StringFormat,
    content::{Content, Operation},
    dictionary,
};

use super::service::Line;
use crate::{error::AppResult, events::domain::EventCategory, identity::domain::label_zh};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 64.0;

/// The category as printed.
fn category_zh(category: EventCategory) -> &'static str {
    match category {
        EventCategory::ElderlyCare => "为老服务",
        EventCategory::Children => "儿童关爱",
        EventCategory::Disability => "助残服务",
        EventCategory::Environment => "环境保护",
        EventCategory::CommunityGovernance => "社区治理",
        EventCategory::Health => "健康服务",
        EventCategory::Education => "教育服务",
        EventCategory::Emergency => "应急救援",
        EventCategory::Other => "其他",
    }
}

/// Minutes as hours with one decimal: `12.5`.
pub fn hours(minutes: i64) -> String {
    format!("{}.{}", minutes / 60, (minutes % 60) * 10 / 60)
}

fn day(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// Approximate width of `s` in em: CJK full width, Latin half.
fn width_em(s: &str) -> f32 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
        .sum()
}

/// Break `s` into lines at most `max_em` wide.
fn wrap(s: &str, max_em: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    let mut w = 0.0;
    for c in s.chars() {
        let cw = if c.is_ascii() { 0.5 } else { 1.0 };
        if w + cw > max_em && !line.is_empty() {
            out.push(std::mem::take(&mut line));
            w = 0.0;
        }
        line.push(c);
        w += cw;
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Text as the font's CMap reads it: UTF-16BE.
fn encode(s: &str) -> Object {
    let bytes = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
    Object::String(bytes, StringFormat::Hexadecimal)
}

struct Page {
    ops: Vec<Operation>,
    y: f32,
}

impl Page {
    fn text_at(&mut self, x: f32, y: f32, size: f32, s: &str) {
        self.ops.extend([
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), size.into()]),
            Operation::new("Td", vec![x.into(), y.into()]),
            Operation::new("Tj", vec![encode(s)]),
            Operation::new("ET", vec![]),
        ]);
    }

    /// Write a paragraph from the left margin, wrapped, and move down.
    fn para(&mut self, size: f32, s: &str) {
        let max_em = (PAGE_W - 2.0 * MARGIN) / size;
        for l in wrap(s, max_em) {
            self.text_at(MARGIN, self.y, size, &l);
            self.y -= size * 1.6;
        }
    }

    fn centered(&mut self, size: f32, s: &str) {
        let x = (PAGE_W - width_em(s) * size) / 2.0;
        self.text_at(x.max(MARGIN), self.y, size, s);
        self.y -= size * 2.0;
    }

    fn rule(&mut self) {
        self.ops.extend([
            Operation::new("w", vec![0.5.into()]),
            Operation::new("m", vec![MARGIN.into(), (self.y + 4.0).into()]),
            Operation::new("l", vec![(PAGE_W - MARGIN).into(), (self.y + 4.0).into()]),
            Operation::new("S", vec![]),
        ]);
        self.y -= 12.0;
    }
}

/// Render a certificate issued by `issuer_name`.
pub fn render(c: &cert::Model, lines: &[Line], issuer_name: &str) -> AppResult<Vec<u8>> {
    let id_label = label_zh(c.id_type);
    let mut page = Page {
        ops: Vec::new(),
        y: PAGE_H - 96.0,
    };
    page.centered(24.0, "志愿服务证明");
    page.centered(10.0, &format!("证书编号 No. {}", c.number));
    page.y -= 8.0;
    page.para(
        12.0,
        &format!(
            "兹证明 {}（志愿者编号 {}，{} {}）于 {} 至 {} 期间参加志愿服务，经组织审核，累计服务时长 {} 小时（{} 分钟）。服务内容如下：",
            c.legal_name,
            c.volunteer_number,
            id_label,
            c.id_masked,
            day(c.period_from),
            day(c.period_to),
            hours(c.total_minutes),
            c.total_minutes
        ),
    );
    page.y -= 4.0;
    page.rule();
    // Lines while they fit above the footer (issuer, date, verification note); the rest is
    // summed up in one line.
    const FOOTER_SPACE: f32 = 190.0;
    let mut shown = 0;
    for l in lines {
        if page.y < FOOTER_SPACE {
            break;
        }
        shown += 1;
        let when = if l.first_day == l.last_day {
            l.first_day.format("%Y-%m-%d").to_string()
        } else {
            format!(
                "{} 至 {}",
                l.first_day.format("%Y-%m-%d"),
                l.last_day.format("%Y-%m-%d")
            )
        };
        page.para(
            10.5,
            &format!(
                "{when}　{}（{}，{}）　{} 小时",
                l.event_title,
                l.organization_name,
                category_zh(l.category),
                hours(l.minutes)
            ),
        );
    }
    if shown < lines.len() {
        let rest: i64 = lines[shown..].iter().map(|l| l.minutes).sum();
        page.para(
            10.5,
            &format!(
                "另有 {} 项活动，共 {} 小时",
                lines.len() - shown,
                hours(rest)
            ),
        );
    }
    page.rule();
    page.y -= 12.0;
    page.para(12.0, &format!("出具单位：{issuer_name}"));
    page.para(
        12.0,
        &format!(
            "出具日期：{}",
            day(c
                .issued_at
                .with_timezone(&crate::clock::city_offset())
                .date_naive())
        ),
    );
    page.y -= 12.0;
    page.para(
        9.0,
        &format!(
            "本证明可凭证书编号核验（verifyServiceCertificate，编号 {}）。",
            c.number
        ),
    );

    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType0",
        "BaseFont" => "STSong-Light",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("GB1"),
            "Supplement" => 5,
        },
        "FontDescriptor" => dictionary! {
            "Type" => "FontDescriptor",
            "FontName" => "STSong-Light",
            "Flags" => 6,
            "FontBBox" => vec![(-25).into(), (-254).into(), 1000.into(), 880.into()],
            "ItalicAngle" => 0,
            "Ascent" => 880,
            "Descent" => -120,
            "CapHeight" => 880,
            "StemV" => 93,
        },
        // Latin (CIDs 1–95 of Adobe-GB1) half width, everything else full width.
        "DW" => 1000,
        "W" => vec![1.into(), 95.into(), 500.into()],
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "STSong-Light-UniGB-UTF16-H",
        "Encoding" => "UniGB-UTF16-H",
        "DescendantFonts" => vec![descendant.into()],
    });
    let content = Content {
        operations: page.ops,
    }
    .encode()
    .map_err(|e| anyhow::anyhow!("encoding the certificate page: {e}"))?;
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        "MediaBox" => vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let info = doc.add_object(dictionary! {
        "Title" => Object::String(
            std::iter::once(0xFEFF_u16)
                .chain(format!("志愿服务证明 {}", c.number).encode_utf16())
                .flat_map(u16::to_be_bytes)
                .collect(),
            StringFormat::Hexadecimal,
        ),
        "Producer" => Object::string_literal("Tongxing"),
    });
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| anyhow::anyhow!("writing the certificate PDF: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(n_lines: usize) -> (cert::Model, Vec<Line>) {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let lines: Vec<Line> = (0..n_lines)
            .map(|i| Line {
                event_title: format!("社区长者助餐与陪伴服务第{i}期"),
                organization_name: "昆山市亭林镇社会工作服务站".to_owned(),
                category: EventCategory::ElderlyCare,
                first_day: day,
                last_day: day + chrono::Duration::days(30),
                minutes: 90,
                records: 1,
            })
            .collect();
        let model = cert::Model {
            id: 1,
            number: "TXC-2026-0000-0000-0000".to_owned(),
            account_id: 1,
            organization_id: 1,
            issued_by: 1,
            period_from: day,
            period_to: day,
            legal_name: "李明".to_owned(),
            volunteer_number: "TX00000001".to_owned(),
            id_type: entity::identity::IdType::MainlandId,
            id_masked: "110***********002X".to_owned(),
            total_minutes: 90 * n_lines as i64,
            items: String::new(),
            issued_at: chrono::Utc::now(),
        };
        (model, lines)
    }

    #[test]
    fn many_events_never_push_the_issuer_off_the_page() {
        let (c, lines) = certificate(60);
        let pdf = render(&c, &lines, "亭林社工站").unwrap();
        let doc = Document::load_mem(&pdf).unwrap();
        let text: String = doc
            .extract_text(&[1])
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.contains("出具单位：亭林社工站"), "{text}");
        assert!(text.contains("另有"), "the rest is summed up: {text}");
        // Every text position stays on the page.
        let page = *doc.get_pages().get(&1).unwrap();
        let content = doc.get_and_decode_page_content(page).unwrap();
        for op in content.operations.iter().filter(|o| o.operator == "Td") {
            let y = op.operands[1].as_float().unwrap();
            assert!(y > 20.0, "text below the page edge at y={y}");
        }
    }

    #[test]
    fn hours_have_one_decimal_rounded_down() {
        assert_eq!(hours(0), "0.0");
        assert_eq!(hours(45), "0.7");
        assert_eq!(hours(90), "1.5");
        assert_eq!(hours(605), "10.0");
    }

    #[test]
    fn wrapping_counts_cjk_as_full_width() {
        let lines = wrap("一二三四五abcdefgh", 4.0);
        assert_eq!(lines, vec!["一二三四", "五abcdef", "gh"]);
        assert!(wrap("", 4.0).is_empty());
    }
}
