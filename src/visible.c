/*
 * visible.c
 *		Is there visible text in a string?  A written reason (the note of
 *		reinstated) must have some: " ", a tab, or U+200B alone do not count.
 *
 * A character is invisible when Unicode (15.0) gives it one of these
 * properties: White_Space (spaces, line and paragraph separators), general
 * category Cc (controls) or Cf (format: zero-width space and joiners,
 * direction marks, the BOM, soft hyphen, tags), or
 * Default_Ignorable_Code_Point (variation selectors, Hangul fillers, ...).
 * Every other character, letters, digits, punctuation and symbols of any
 * script included, is visible.  The lists are short and stable, so they are
 * written out here rather than taken from a library.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "registry.h"

typedef struct CodeRange
{
	pg_wchar	first;
	pg_wchar	last;
} CodeRange;

/* sorted, may overlap: White_Space, Cc, Cf, Default_Ignorable_Code_Point */
static const CodeRange invisible[] = {
	{0x0000, 0x0020},			/* Cc, and the space */
	{0x007F, 0x00A0},			/* DEL, C1 controls, NEL, no-break space */
	{0x00AD, 0x00AD},			/* soft hyphen */
	{0x034F, 0x034F},			/* combining grapheme joiner */
	{0x0600, 0x0605},
	{0x061C, 0x061C},			/* Arabic letter mark */
	{0x06DD, 0x06DD},
	{0x070F, 0x070F},
	{0x0890, 0x0891},
	{0x08E2, 0x08E2},
	{0x115F, 0x1160},			/* Hangul fillers */
	{0x1680, 0x1680},			/* Ogham space mark */
	{0x17B4, 0x17B5},
	{0x180B, 0x180F},			/* Mongolian variation selectors, vowel separator */
	{0x2000, 0x200F},			/* spaces, zero-width space, joiners, marks */
	{0x2028, 0x202F},			/* separators, embeddings, narrow no-break space */
	{0x205F, 0x206F},			/* math space, word joiner, invisible operators */
	{0x3000, 0x3000},			/* ideographic space */
	{0x3164, 0x3164},			/* Hangul filler */
	{0xFE00, 0xFE0F},			/* variation selectors */
	{0xFEFF, 0xFEFF},			/* zero-width no-break space (BOM) */
	{0xFFA0, 0xFFA0},			/* halfwidth Hangul filler */
	{0xFFF0, 0xFFFB},			/* interlinear annotation */
	{0x110BD, 0x110BD},
	{0x110CD, 0x110CD},
	{0x13430, 0x1343F},			/* Egyptian hieroglyph format controls */
	{0x1BCA0, 0x1BCA3},			/* shorthand format controls */
	{0x1D173, 0x1D17A},			/* musical symbol format controls */
	{0xE0000, 0xE0FFF},			/* tags, variation selectors supplement */
};

static bool
is_invisible(pg_wchar c)
{
	int			lo = 0;
	int			hi = lengthof(invisible) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < invisible[mid].first)
			hi = mid - 1;
		else if (c > invisible[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * The string is in the database encoding; it is read as Unicode (converted
 * if the database is not UTF-8).
 */
bool
text_has_visible_char(const char *s, int len)
{
	const unsigned char *p;
	const unsigned char *end;
	char	   *utf8;

	utf8 = (char *) pg_do_encoding_conversion((unsigned char *) unconstify(char *, s),
											  len, GetDatabaseEncoding(), PG_UTF8);
	if (utf8 != s)
		len = strlen(utf8);
	p = (const unsigned char *) utf8;
	end = p + len;
	while (p < end)
	{
		int			l = pg_utf_mblen(p);

		if (p + l > end)
			break;
		if (!is_invisible(utf8_to_unicode(p)))
			return true;
		p += l;
	}
	return false;
}
