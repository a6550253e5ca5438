//! Property tests over what clients control: arbitrary bytes through the
//! framing, the message parser, the startup parser, the SQL lexer and the
//! classifier never panic, and what they accept means what was sent.

use proptest::prelude::*;

use super::sql::{self, Segment, lexer};
use super::wire::{frame, frontend, startup};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn framing_and_parsing_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(Some((ty, n))) = frame::typed(&bytes, frame::MAX_MESSAGE) {
            prop_assert!(n >= 5 && n <= bytes.len());
            let _ = frontend::parse(ty, &bytes[5..n]);
        }
        if let Ok(Some(n)) = frame::untyped(&bytes, frame::MAX_STARTUP) {
            prop_assert!(n >= 4 && n <= bytes.len());
            let _ = startup::parse(&bytes[..n]);
        }
        for ty in [b'Q', b'P', b'B', b'D', b'E', b'C', b'S', b'H', b'F', b'd', b'c', b'f', b'p', b'X'] {
            let _ = frontend::parse(ty, &bytes);
        }
    }

    #[test]
    fn binds_mean_what_was_sent(
        portal in "[a-z_]{0,8}",
        statement in "[a-z_0-9]{0,8}",
        params in proptest::collection::vec(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..16)), 0..6),
    ) {
        let mut out = Vec::new();
        let values: Vec<Option<&[u8]>> = params.iter().map(|p| p.as_deref()).collect();
        frontend::write::bind_text(&mut out, portal.as_bytes(), statement.as_bytes(), &values);
        let (ty, n) = frame::typed(&out, frame::MAX_MESSAGE).unwrap().unwrap();
        prop_assert_eq!(n, out.len());
        match frontend::parse(ty, &out[5..]) {
            Ok(frontend::Message::Bind { portal: p, statement: s, .. }) => {
                prop_assert_eq!(p, portal.as_bytes());
                prop_assert_eq!(s, statement.as_bytes());
            }
            other => prop_assert!(false, "{:?}", other),
        }
        // Any shorter body is refused, never misread.
        for cut in 5..out.len() {
            prop_assert!(frontend::parse(ty, &out[5..cut]).is_err());
        }
    }

    #[test]
    fn lexing_covers_the_text_and_never_panics(sql in "[a-zA-Z0-9 ;'\"$\\\\/*\\-()\n_E&U]{0,60}", standard in any::<bool>()) {
        let statements = lexer::split(sql.as_bytes(), standard);
        prop_assert!(!statements.is_empty());
        let mut at = 0;
        for st in &statements {
            prop_assert_eq!(st.start, at);
            prop_assert!(st.end >= st.start);
            for t in &st.tokens {
                prop_assert!(t.start >= st.start && t.end <= st.end && t.start < t.end);
            }
            at = st.end;
            let _ = sql::classify::classify(sql.as_bytes(), st);
        }
        prop_assert_eq!(at, sql.len());
        // Without statements to rename, the segments are the text itself.
        let segments = sql::segments(sql.as_bytes(), standard, &|n| n.to_string());
        let joined: Vec<u8> = segments.iter().flat_map(|s| match s {
            Segment::Forward { text, .. } | Segment::Special { text, .. } => text.clone(),
        }).collect();
        if !sql.to_ascii_lowercase().contains("prepare")
            && !sql.to_ascii_lowercase().contains("execute")
            && !sql.to_ascii_lowercase().contains("deallocate")
            && !sql.to_ascii_lowercase().contains("concurrently")
        {
            prop_assert_eq!(joined, sql.as_bytes().to_vec());
        }
    }

    #[test]
    fn statements_split_where_they_end(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("select 1".to_string()),
                Just("select 'a;b'".to_string()),
                Just("select $q$ ; $q$".to_string()),
                Just("/* ; /* ; */ */ select 2".to_string()),
                Just("select E'\\'; '".to_string()),
                Just("select \";\"".to_string()),
                Just("begin".to_string()),
                Just("commit".to_string()),
            ],
            1..6,
        ),
    ) {
        let sql = parts.join(";");
        let statements = lexer::split(sql.as_bytes(), true);
        let real: Vec<_> = statements.iter().filter(|s| !s.tokens.is_empty()).collect();
        prop_assert_eq!(real.len(), parts.len(), "{}", sql);
    }
}
