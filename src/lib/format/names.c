/* SPDX-License-Identifier: Apache-2.0 */
/* Capability and language names (sis-format.md §5.10; Symbian TLanguage). */
#include "format/format_private.h"

#include <string.h>
#include <strings.h>

static const char *const caps[] = {
	"TCB", "CommDD", "PowerMgmt", "MultimediaDD", "ReadDeviceData", "WriteDeviceData", "DRM",
	"TrustedUI", "ProtServ", "DiskAdmin", "NetworkControl", "AllFiles", "SwEvent", "NetworkServices",
	"LocalServices", "ReadUserData", "WriteUserData", "Location", "SurroundingsDD", "UserEnvironment",
};

const char *sisign_capability_name(unsigned cap)
{
	return cap < sizeof caps / sizeof caps[0] ? caps[cap] : NULL;
}

int sisign_capability_from_name(const char *name)
{
	for (unsigned i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (strcasecmp(name, caps[i]) == 0)
			return (int)i;
	return -1;
}

static const struct {
	uint32_t code;
	const char *name;
} langs[] = {
	{ 1, "English" }, { 2, "French" }, { 3, "German" }, { 4, "Spanish" }, { 5, "Italian" },
	{ 6, "Swedish" }, { 7, "Danish" }, { 8, "Norwegian" }, { 9, "Finnish" }, { 10, "American English" },
	{ 11, "Swiss French" }, { 12, "Swiss German" }, { 13, "Portuguese" }, { 14, "Turkish" },
	{ 15, "Icelandic" }, { 16, "Russian" }, { 17, "Hungarian" }, { 18, "Dutch" }, { 19, "Belgian Flemish" },
	{ 20, "Australian English" }, { 21, "Belgian French" }, { 22, "Austrian German" },
	{ 23, "New Zealand English" }, { 24, "International French" }, { 25, "Czech" }, { 26, "Slovak" },
	{ 27, "Polish" }, { 28, "Slovenian" }, { 29, "Taiwan Chinese" }, { 30, "Hong Kong Chinese" },
	{ 31, "PRC Chinese" }, { 32, "Japanese" }, { 33, "Thai" }, { 34, "Afrikaans" }, { 35, "Albanian" },
	{ 36, "Amharic" }, { 37, "Arabic" }, { 38, "Armenian" }, { 39, "Tagalog" }, { 40, "Belarussian" },
	{ 41, "Bengali" }, { 42, "Bulgarian" }, { 43, "Burmese" }, { 44, "Catalan" }, { 45, "Croatian" },
	{ 46, "Canadian English" }, { 47, "International English" }, { 48, "South African English" },
	{ 49, "Estonian" }, { 50, "Farsi" }, { 51, "Canadian French" }, { 52, "Scots Gaelic" },
	{ 53, "Georgian" }, { 54, "Greek" }, { 55, "Cyprus Greek" }, { 56, "Gujarati" }, { 57, "Hebrew" },
	{ 58, "Hindi" }, { 59, "Indonesian" }, { 60, "Irish" }, { 61, "Swiss Italian" }, { 62, "Kannada" },
	{ 63, "Kazakh" }, { 64, "Khmer" }, { 65, "Korean" }, { 66, "Lao" }, { 67, "Latvian" },
	{ 68, "Lithuanian" }, { 69, "Macedonian" }, { 70, "Malay" }, { 71, "Malayalam" }, { 72, "Marathi" },
	{ 73, "Moldavian" }, { 74, "Mongolian" }, { 75, "Norwegian Nynorsk" }, { 76, "Brazilian Portuguese" },
	{ 77, "Punjabi" }, { 78, "Romanian" }, { 79, "Serbian" }, { 80, "Sinhalese" }, { 81, "Somali" },
	{ 82, "International Spanish" }, { 83, "Latin American Spanish" }, { 84, "Swahili" },
	{ 85, "Finland Swedish" }, { 86, "Tajik" }, { 87, "Tamil" }, { 88, "Telugu" }, { 89, "Tibetan" },
	{ 90, "Tigrinya" }, { 91, "Cyprus Turkish" }, { 92, "Turkmen" }, { 93, "Ukrainian" }, { 94, "Urdu" },
	{ 95, "Uzbek" }, { 96, "Vietnamese" }, { 97, "Welsh" }, { 98, "Zulu" },
};

const char *sisign_language_name(uint32_t lang)
{
	for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++)
		if (langs[i].code == lang)
			return langs[i].name;
	return NULL;
}
