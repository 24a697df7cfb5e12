//! TEMPORARY stand-in, replaced by the full presentation-format parser.
use hickory_proto::rr::{Name, RData, RecordType};
use std::str::FromStr;

/// Where in `text` a problem is: a 0-based character offset, plus the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdataError {
    pub offset: usize,
    pub message: String,
}

pub fn parse_name(text: &str, origin: &Name) -> Result<Name, String> {
    if text == "@" {
        return Ok(origin.clone());
    }
    Name::parse(text, Some(origin)).map_err(|e| e.to_string())
}

pub fn parse_record_type(text: &str) -> Option<RecordType> {
    RecordType::from_str(&text.to_ascii_uppercase()).ok()
}

pub fn parse_rdata(rtype: RecordType, text: &str, origin: &Name) -> Result<RData, RdataError> {
    use hickory_proto::rr::rdata::{CNAME, MX, NS, PTR, SRV};
    let name = |t: &str| {
        parse_name(t, origin).map_err(|m| RdataError {
            offset: 0,
            message: m,
        })
    };
    let f: Vec<&str> = text.split_whitespace().collect();
    match (rtype, f.as_slice()) {
        (RecordType::CNAME, [t]) => return Ok(RData::CNAME(CNAME(name(t)?))),
        (RecordType::NS, [t]) => return Ok(RData::NS(NS(name(t)?))),
        (RecordType::PTR, [t]) => return Ok(RData::PTR(PTR(name(t)?))),
        (RecordType::MX, [p, t]) => {
            return Ok(RData::MX(MX::new(p.parse().unwrap_or(0), name(t)?)));
        }
        (RecordType::SRV, [a, b, c, t]) => {
            return Ok(RData::SRV(SRV::new(
                a.parse().unwrap_or(0),
                b.parse().unwrap_or(0),
                c.parse().unwrap_or(0),
                name(t)?,
            )));
        }
        _ => {}
    }
    RData::try_from_str(rtype, text).map_err(|e| RdataError {
        offset: 0,
        message: e.to_string(),
    })
}

pub fn format_rdata(rdata: &RData) -> String {
    rdata.to_string()
}
