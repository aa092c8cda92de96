-- 030_textkey.sql — af_norm_key() becomes Unicode-aware, exactly like lib/textkey.c's
-- af_text_key(): compatibility normalisation (NFKC) and case folding, then letters
-- and decimal digits only ("ROSÉ" = "Rosé", "ＡＢＣ" = "abc", "ﬁ" = "fi", "Hip-Hop" =
-- "hiphop").  Case mapping and [[:alnum:]] use the ICU root collation, so the key does
-- not depend on the database's locale; lower(upper(lower(x))) is ICU's full case mapping
-- ("ẞ" -> "ß" -> "SS" -> "ss"), which agrees with Unicode case folding, and the second
-- NFKC recomposes what upper case decomposed ("ǰ").  ICU's lower() writes a word-final
-- sigma as "ς"; case folding has one sigma, "σ".  Measured over every assigned code
-- point from U+0080 to U+2FFFF: C and SQL keys differ only for 62 letters new in
-- Unicode 15 (U+1E030..U+1E08F), which PostgreSQL 15's normalize() does not know yet.
CREATE OR REPLACE FUNCTION af_norm_key(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(normalize(translate(lower(upper(lower(normalize(t, NFKC) COLLATE "und-x-icu"))),
                                              'ς', 'σ'), NFKC),
                          '[^[:alnum:]]', '', 'g')
$$;

-- Match keys stored with the old key (non-ASCII letters not case-folded) are recomputed,
-- so that "MOTÖRHEAD" found later meets the "Motörhead" already stored.
UPDATE tracks
   SET match_key = CASE WHEN af_norm_key(artist) <> '' AND af_norm_key(title) <> ''
                        THEN af_norm_key(artist) || E'\t' || af_norm_key(title) END
 WHERE match_key IS NOT NULL AND match_key !~ '^[\x01-\x7F]*$'
   AND artist IS NOT NULL AND title IS NOT NULL;
