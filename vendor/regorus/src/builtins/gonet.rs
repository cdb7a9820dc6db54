// cos patch 22: Go's `net` package as OPA's `net.cidr_*` builtins use it.
//
// OPA computes these builtins with Go's `net.IP` (a byte slice of 4 or 16
// bytes) and `net.IPNet`, whose quirks show in the answers: an IPv4 address
// without a prefix gets its classful default mask in `net.cidr_merge`
// ("1.2.3.4" merges as "1.2.3.4/8"), an IPv4-mapped IPv6 network compares
// only its last four bytes, a network prints its IP unmasked. The functions
// below reproduce those byte-slice semantics (lengths included); where Go
// would index out of range (OPA panics), they return `None`/an error.

use anyhow::anyhow;
use std::string::String;
use std::vec::Vec;

pub type Ip = Vec<u8>;

const V4_IN_V6_PREFIX: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

#[derive(Clone, Debug)]
pub struct IpNet {
    pub ip: Ip,
    pub mask: Vec<u8>,
}

/// `netip.ParseAddr` without zones: the address and its bit length.
fn parse_addr(s: &str) -> Option<([u8; 16], usize)> {
    if let Ok(v4) = s.parse::<core::net::Ipv4Addr>() {
        let mut b = [0u8; 16];
        b[..12].copy_from_slice(&V4_IN_V6_PREFIX);
        b[12..].copy_from_slice(&v4.octets());
        return Some((b, 32));
    }
    if let Ok(v6) = s.parse::<core::net::Ipv6Addr>() {
        return Some((v6.octets(), 128));
    }
    None
}

/// `net.ParseIP`: 16 bytes (IPv4 as IPv4-mapped), or `None`.
pub fn parse_ip(s: &str) -> Option<Ip> {
    parse_addr(s).map(|(b, _)| b.to_vec())
}

/// `net.CIDRMask(ones, bits)`.
pub fn cidr_mask(ones: usize, bits: usize) -> Vec<u8> {
    let mut m = std::vec![0u8; bits / 8];
    let mut n = ones.min(bits);
    for b in m.iter_mut() {
        if n >= 8 {
            *b = 0xff;
            n -= 8;
        } else {
            *b = !(0xffu8 >> n);
            n = 0;
        }
    }
    m
}

/// `net.ParseCIDR`: the 16-byte IP and the network (IP masked).
pub fn parse_cidr(s: &str) -> Result<(Ip, IpNet), anyhow::Error> {
    let err = || anyhow!("invalid CIDR address: {s}");
    let (addr, mask) = s.split_once('/').ok_or_else(err)?;
    let (ip, bits) = parse_addr(addr).ok_or_else(err)?;
    // Go's dtoi: decimal digits only, at least one, below 2^24.
    if mask.is_empty() || !mask.bytes().all(|c| c.is_ascii_digit()) {
        return Err(err());
    }
    let mut n: usize = 0;
    for c in mask.bytes() {
        n = n * 10 + usize::from(c - b'0');
        if n >= 0xFF_FFFF {
            return Err(err());
        }
    }
    if n > bits {
        return Err(err());
    }
    let m = cidr_mask(n, bits);
    let ip = ip.to_vec();
    let net_ip = mask_ip(&ip, &m).ok_or_else(err)?;
    Ok((
        ip,
        IpNet {
            ip: net_ip,
            mask: m,
        },
    ))
}

/// `IP.To4`.
pub fn to4(ip: &[u8]) -> Option<&[u8]> {
    if ip.len() == 4 {
        return Some(ip);
    }
    if ip.len() == 16 && ip[..12] == V4_IN_V6_PREFIX {
        return Some(&ip[12..]);
    }
    None
}

/// `IP.Mask`: `None` where Go returns nil.
pub fn mask_ip(ip: &[u8], mask: &[u8]) -> Option<Ip> {
    let mut ip = ip;
    let mut mask = mask;
    if mask.len() == 16 && ip.len() == 4 && mask[..12].iter().all(|b| *b == 0xff) {
        mask = &mask[12..];
    }
    if mask.len() == 4 && ip.len() == 16 && ip[..12] == V4_IN_V6_PREFIX {
        ip = &ip[12..];
    }
    if ip.len() != mask.len() {
        return None;
    }
    Some(ip.iter().zip(mask).map(|(a, b)| a & b).collect())
}

/// `IP.Equal`.
pub fn ip_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() == b.len() {
        return a == b;
    }
    if a.len() == 4 && b.len() == 16 {
        return b[..12] == V4_IN_V6_PREFIX && b[12..] == *a;
    }
    if a.len() == 16 && b.len() == 4 {
        return a[..12] == V4_IN_V6_PREFIX && a[12..] == *b;
    }
    false
}

fn simple_mask_length(mask: &[u8]) -> Option<usize> {
    let mut n = 0;
    let mut i = 0;
    while i < mask.len() {
        let mut v = mask[i];
        if v == 0xff {
            n += 8;
            i += 1;
            continue;
        }
        while v & 0x80 != 0 {
            n += 1;
            v <<= 1;
        }
        if v != 0 {
            return None;
        }
        if mask[i + 1..].iter().any(|b| *b != 0) {
            return None;
        }
        break;
    }
    Some(n)
}

/// `IPMask.Size`.
pub fn mask_size(mask: &[u8]) -> (usize, usize) {
    match simple_mask_length(mask) {
        Some(ones) => (ones, mask.len() * 8),
        None => (0, 0),
    }
}

fn network_number_and_mask(n: &IpNet) -> Option<(&[u8], &[u8])> {
    let ip: &[u8] = match to4(&n.ip) {
        Some(ip) => ip,
        None if n.ip.len() == 16 => &n.ip,
        None => return None,
    };
    let m: &[u8] = match n.mask.len() {
        4 if ip.len() == 4 => &n.mask,
        4 => return None,
        16 if ip.len() == 4 => &n.mask[12..],
        16 => &n.mask,
        _ => return None,
    };
    Some((ip, m))
}

/// `IPNet.Contains`.
pub fn contains(n: &IpNet, ip: &[u8]) -> bool {
    let Some((nn, m)) = network_number_and_mask(n) else {
        return false;
    };
    let ip = to4(ip).unwrap_or(ip);
    if ip.len() != nn.len() {
        return false;
    }
    (0..ip.len()).all(|i| nn[i] & m[i] == ip[i] & m[i])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| std::format!("{x:02x}")).collect()
}

/// `IP.String`.
pub fn ip_string(ip: &[u8]) -> String {
    if ip.is_empty() {
        return "<nil>".into();
    }
    if ip.len() != 4 && ip.len() != 16 {
        return std::format!("?{}", hex(ip));
    }
    if let Some(v4) = to4(ip) {
        return std::format!("{}.{}.{}.{}", v4[0], v4[1], v4[2], v4[3]);
    }
    // RFC 5952, as netip formats: the longest run of two or more zero
    // groups (the first of equals) becomes "::".
    let groups: Vec<u16> = (0..8)
        .map(|i| u16::from(ip[2 * i]) << 8 | u16::from(ip[2 * i + 1]))
        .collect();
    let (mut best_start, mut best_len) = (8usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if groups[i] == 0 {
            let start = i;
            while i < 8 && groups[i] == 0 {
                i += 1;
            }
            if i - start > best_len && i - start >= 2 {
                best_start = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if i == best_start {
            out.push_str("::");
            i += best_len;
            continue;
        }
        if !out.is_empty() && !out.ends_with(':') {
            out.push(':');
        }
        out.push_str(&std::format!("{:x}", groups[i]));
        i += 1;
    }
    out
}

/// `IPNet.String`.
pub fn net_string(n: &IpNet) -> String {
    let Some((nn, m)) = network_number_and_mask(n) else {
        return "<nil>".into();
    };
    match simple_mask_length(m) {
        Some(l) => std::format!("{}/{l}", ip_string(nn)),
        None => std::format!("{}/{}", ip_string(nn), hex(m)),
    }
}

fn to_u128(b: &[u8]) -> Option<u128> {
    // big.Int.SetBytes of at most 16 bytes.
    if b.len() > 16 {
        return None;
    }
    Some(b.iter().fold(0u128, |acc, x| (acc << 8) | u128::from(*x)))
}

/// `big.Int.Bytes`: big-endian without leading zeros.
fn big_bytes(x: u128) -> Vec<u8> {
    let b = x.to_be_bytes();
    let first = b.iter().position(|v| *v != 0).unwrap_or(16);
    b[first..].to_vec()
}

fn pad_to(b: Vec<u8>, len: usize) -> Vec<u8> {
    if b.len() >= len {
        return b;
    }
    let mut out = std::vec![0u8; len - b.len()];
    out.extend(b);
    out
}

/// OPA's `getLastIP`.
pub fn last_ip(n: &IpNet) -> Result<Ip, anyhow::Error> {
    let (prefix, bits) = mask_size(&n.mask);
    if prefix == 0 && bits == 0 {
        return Err(anyhow!("CIDR mask is in non-standard format"));
    }
    if prefix == bits {
        return Ok(n.ip.clone());
    }
    let first = to_u128(&n.ip).ok_or_else(panics)?;
    let host = bits - prefix;
    let ones = if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    };
    let b = big_bytes(first | ones);
    if b.len() > bits / 8 {
        return Err(panics());
    }
    Ok(pad_to(b, bits / 8))
}

fn panics() -> anyhow::Error {
    anyhow!(
        "OPA v1.22.2 panics on this input (index out of range in Go's net code); cos refuses it"
    )
}

/// OPA's `builtinNetCIDRContains` on two strings.
pub fn cidr_contains(a: &str, b: &str) -> Result<bool, anyhow::Error> {
    let (_, na) = parse_cidr(a)?;
    if let Some(ip) = parse_ip(b) {
        return Ok(contains(&na, &ip));
    }
    let (_, nb) = parse_cidr(b)
        .map_err(|_| anyhow!("not a valid textual representation of an IP address or CIDR: {b}"))?;
    let plain6 = |n: &IpNet| n.ip.len() == 16 && n.mask.len() == 16 && to4(&n.ip).is_none();
    if plain6(&na) && plain6(&nb) {
        let (a_ones, _) = mask_size(&na.mask);
        let (b_ones, _) = mask_size(&nb.mask);
        let masked = mask_ip(&nb.ip, &na.mask);
        return Ok(a_ones <= b_ones && masked.is_some_and(|m| ip_equal(&na.ip, &m)));
    }
    if contains(&na, &nb.ip) {
        let last = last_ip(&nb)?;
        return Ok(contains(&na, &last));
    }
    Ok(false)
}

/// OPA's `builtinNetCIDRIntersects`.
pub fn cidr_intersects(a: &str, b: &str) -> Result<bool, anyhow::Error> {
    let (_, na) = parse_cidr(a)?;
    let (_, nb) = parse_cidr(b)?;
    Ok(contains(&na, &nb.ip) || contains(&nb, &na.ip))
}

/// `IP.DefaultMask`.
fn default_mask(ip: &[u8]) -> Option<Vec<u8>> {
    let v4 = to4(ip)?;
    Some(match v4[0] {
        0..=0x7f => std::vec![0xff, 0, 0, 0],
        0x80..=0xbf => std::vec![0xff, 0xff, 0, 0],
        _ => std::vec![0xff, 0xff, 0xff, 0],
    })
}

/// OPA's `generateIPNet` (an element of `net.cidr_merge`'s operand).
pub fn merge_element(e: &str) -> Result<IpNet, anyhow::Error> {
    match parse_ip(e) {
        None => parse_cidr(e).map(|(_, n)| n),
        Some(ip) => match default_mask(&ip) {
            Some(mask) => Ok(IpNet { ip, mask }),
            None => Err(anyhow!("IPv6 invalid: needs prefix length")),
        },
    }
}

// ------------------------------------------------- internal/cidr/merge

/// `GetAddressRange`.
fn address_range(n: &IpNet) -> Result<(Ip, Ip), anyhow::Error> {
    // Go masks copies; a length mismatch gives nil, which the loop below
    // then indexes out of range.
    let first = mask_ip(&n.ip, &n.mask).unwrap_or_default();
    let mut first = first;
    let mut last = first.clone();
    if to4(&first).is_some() {
        let mut f = V4_IN_V6_PREFIX.to_vec();
        f.extend_from_slice(&first);
        let mut l = V4_IN_V6_PREFIX.to_vec();
        l.extend_from_slice(&last);
        first = f;
        last = l;
    }
    let ml = n.mask.len();
    for i in 0..ml {
        let inv = !n.mask[ml - i - 1];
        let idx = 16usize.checked_sub(i + 1).ok_or_else(panics)?;
        let slot = last.get_mut(idx).ok_or_else(panics)?;
        *slot |= inv;
    }
    Ok((first, last))
}

/// `GetPreviousIP`.
fn previous_ip(ip: &[u8]) -> Ip {
    let mut default4 = V4_IN_V6_PREFIX.to_vec();
    default4.extend_from_slice(&[0, 0, 0, 0]);
    if ip_equal(ip, &default4) || ip_equal(ip, &[0u8; 16]) {
        return ip.to_vec();
    }
    let mut prev = ip.to_vec();
    let lower = if to4(ip).is_some() { 12 } else { 0 };
    let mut overflow = false;
    let mut i = ip.len();
    while i > lower.min(ip.len()) {
        i -= 1;
        if overflow || i == ip.len() - 1 {
            prev[i] = prev[i].wrapping_sub(1);
        }
        overflow = ip[i] == 0 && prev[i] == 255;
    }
    prev
}

/// `getNextIP`.
fn next_ip(ip: &[u8]) -> Ip {
    let mut upper4 = V4_IN_V6_PREFIX.to_vec();
    upper4.extend_from_slice(&[255, 255, 255, 255]);
    if ip_equal(ip, &upper4) || ip_equal(ip, &[0xffu8; 16]) {
        return ip.to_vec();
    }
    match ip.len() {
        4 => {
            let v = u32::from_be_bytes([ip[0], ip[1], ip[2], ip[3]]).wrapping_add(1);
            v.to_be_bytes().to_vec()
        }
        16 => {
            let mut hi = [0u8; 8];
            hi.copy_from_slice(&ip[..8]);
            let mut lo = [0u8; 8];
            lo.copy_from_slice(&ip[8..]);
            let lo = u64::from_be_bytes(lo).wrapping_add(1);
            let hi = if lo == 0 {
                u64::from_be_bytes(hi).wrapping_add(1)
            } else {
                u64::from_be_bytes(hi)
            };
            let mut out = hi.to_be_bytes().to_vec();
            out.extend_from_slice(&lo.to_be_bytes());
            out
        }
        _ => ip.to_vec(),
    }
}

/// `createSpanningCIDR`.
fn spanning_cidr(first: &[u8], last: &[u8]) -> Result<IpNet, anyhow::Error> {
    let is4 = to4(first).is_some();
    let (bit_len, byte_len) = if is4 { (32, 4) } else { (128, 16) };
    let mut size = bit_len;
    let lowest = to_u128(first).ok_or_else(panics)?;
    let mut highest = to_u128(last).ok_or_else(panics)?;
    while size > 0 && lowest < highest {
        size -= 1;
        let k = bit_len - size;
        highest &= if k >= 128 { 0 } else { !((1u128 << k) - 1) };
    }
    let mut ip = if is4 {
        let mut v = std::vec![0u8; 10];
        v.extend(big_bytes(highest));
        v
    } else {
        big_bytes(highest)
    };
    if ip.is_empty() {
        ip = std::vec![0u8; byte_len];
    }
    Ok(IpNet {
        ip,
        mask: cidr_mask(size, bit_len),
    })
}

/// `partitionCIDR`: (left, right).
fn partition(target: &IpNet, exclude: &IpNet) -> Result<(Vec<IpNet>, Vec<IpNet>), anyhow::Error> {
    let target_is4 = to4(&target.ip).is_some();
    let (t_first, t_last) = address_range(target)?;
    let (e_first, e_last) = address_range(exclude)?;
    let (t_size, _) = mask_size(&target.mask);
    let (e_size, _) = mask_size(&exclude.mask);
    if e_last < t_first {
        return Ok((Vec::new(), std::vec![target.clone()]));
    } else if t_last < e_first {
        return Ok((std::vec![target.clone()], Vec::new()));
    }
    if t_size >= e_size {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut new_prefix = t_size + 1;
    let bit_len = if target_is4 { 32 } else { 128 };
    let pow = |s: usize| -> Result<u128, anyhow::Error> {
        if s >= 128 {
            Err(panics())
        } else {
            Ok(1u128 << s)
        }
    };
    let mut lower = to_u128(&t_first).ok_or_else(panics)?;
    let target_int = lower;
    let mut upper = target_int
        .checked_add(pow(bit_len - new_prefix)?)
        .ok_or_else(panics)?;
    let mut iterations = 0usize;
    while e_size >= new_prefix {
        crate::utils::limits::tick(iterations)?;
        iterations += 1;
        let (ub, lb) = if target_is4 {
            let mut u = std::vec![0u8; 10];
            u.extend(big_bytes(upper));
            let mut l = std::vec![0u8; 10];
            l.extend(big_bytes(lower));
            (u, l)
        } else {
            (pad_to(big_bytes(upper), 16), pad_to(big_bytes(lower), 16))
        };
        let matched;
        if e_first >= ub {
            left.push(IpNet {
                ip: lb,
                mask: cidr_mask(new_prefix, bit_len),
            });
            matched = upper;
        } else {
            right.push(IpNet {
                ip: ub,
                mask: cidr_mask(new_prefix, bit_len),
            });
            matched = lower;
        }
        new_prefix += 1;
        if new_prefix > bit_len {
            break;
        }
        lower = matched;
        upper = matched
            .checked_add(pow(bit_len - new_prefix)?)
            .ok_or_else(panics)?;
    }
    Ok((left, right))
}

/// `RangeToCIDRs`.
fn range_to_cidrs(first: &[u8], last: &[u8]) -> Result<Vec<IpNet>, anyhow::Error> {
    let mut spanning = spanning_cidr(first, last)?;
    let (s_first, s_last) = address_range(&spanning)?;
    let mut list: Vec<IpNet> = Vec::new();
    if s_first.as_slice() < first {
        let prev = previous_ip(first);
        let bits = if to4(&prev).is_some() { 32 } else { 128 };
        let (_, right) = partition(
            &spanning,
            &IpNet {
                ip: prev,
                mask: cidr_mask(bits, bits),
            },
        )?;
        spanning = right.first().cloned().ok_or_else(panics)?;
        list.extend(right.into_iter().skip(1));
    }
    if s_last.as_slice() > last {
        let next = next_ip(last);
        let bits = if to4(&next).is_some() { 32 } else { 128 };
        let (left, _) = partition(
            &spanning,
            &IpNet {
                ip: next,
                mask: cidr_mask(bits, bits),
            },
        )?;
        list.extend(left);
    } else {
        list.push(spanning);
    }
    Ok(list)
}

struct Range {
    first: Ip,
    last: Ip,
    network: Option<IpNet>,
}

/// OPA's `evalNetCIDRMerge`: the merged networks as strings.
pub fn merge(networks: Vec<IpNet>) -> Result<Vec<String>, anyhow::Error> {
    let mut ranges = Vec::with_capacity(networks.len());
    for n in networks {
        let (first, last) = address_range(&n)?;
        ranges.push(Range {
            first,
            last,
            network: Some(n),
        });
    }
    // Go sorts unstably; ranges equal in (last, first) are merged below, so
    // their order does not show in the answer.
    ranges.sort_by(|a, b| a.last.cmp(&b.last).then_with(|| a.first.cmp(&b.first)));
    let mut i = ranges.len();
    while i > 1 {
        i -= 1;
        crate::utils::limits::tick(i)?;
        let prev = previous_ip(&ranges[i].first);
        if prev <= ranges[i - 1].last {
            let first = if ranges[i - 1].first < ranges[i].first {
                ranges[i - 1].first.clone()
            } else {
                ranges[i].first.clone()
            };
            let last = ranges[i].last.clone();
            ranges[i - 1] = Range {
                first,
                last,
                network: None,
            };
            ranges.remove(i);
        }
    }
    let mut out = Vec::new();
    for r in ranges {
        match r.network {
            Some(n) => out.push(net_string(&n)),
            None => {
                for n in range_to_cidrs(&r.first, &r.last)? {
                    out.push(net_string(&n));
                }
            }
        }
    }
    Ok(out)
}

/// `incIP` in place.
pub fn inc_ip(ip: &mut [u8]) {
    for b in ip.iter_mut().rev() {
        *b = b.wrapping_add(1);
        if *b > 0 {
            break;
        }
    }
}
