/*
 * aws_xml.c - XML answers of the Query and REST-XML protocols as JSON.
 *
 * The rules (documented in aws.h): the root element's content is the
 * document; an element without child elements is a string of its text;
 * an element whose child elements are all <member> is an array of them;
 * any other element is an object keyed by local name, where a name that
 * repeats (S3's <Contents>) collects its values in an array.  Attributes
 * and namespaces are dropped.
 *
 * The tree is built with json-c directly: a struct gantry_json is a
 * json_object in disguise (see json.c), and the public builders cannot
 * nest an array in an array.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "aws_internal.h"

/* libxml2's own limit is 256; AWS answers are a handful of levels. */
#define XML_MAX_DEPTH 64

static int is_element(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE;
}

static struct json_object *convert(const xmlNode *e, int depth);

static struct json_object *text_of(const xmlNode *e)
{
	xmlChar *s = xmlNodeGetContent(e);
	struct json_object *o = json_object_new_string(s ? (char *)s : "");

	xmlFree(s);
	return o;
}

static int all_members(const xmlNode *e)
{
	const xmlNode *k;
	int n = 0;

	for (k = e->children; k; k = k->next) {
		if (!is_element(k))
			continue;
		if (strcmp((const char *)k->name, "member"))
			return 0;
		n++;
	}
	return n > 0;
}

static int repeats(const xmlNode *first)
{
	const xmlNode *k;

	for (k = first->next; k; k = k->next)
		if (is_element(k) && !strcmp((const char *)k->name,
					     (const char *)first->name))
			return 1;
	return 0;
}

static struct json_object *convert_object(const xmlNode *e, int depth)
{
	struct json_object *obj = json_object_new_object(), *have;
	const xmlNode *k;

	for (k = e->children; k; k = k->next) {
		const char *name = (const char *)k->name;

		if (!is_element(k))
			continue;
		if (json_object_object_get_ex(obj, name, &have)) {
			/* Created as an array by the first of its kind. */
			json_object_array_add(have, convert(k, depth + 1));
			continue;
		}
		if (repeats(k)) {
			have = json_object_new_array();
			json_object_array_add(have, convert(k, depth + 1));
			json_object_object_add(obj, name, have);
		} else {
			json_object_object_add(obj, name,
					       convert(k, depth + 1));
		}
	}
	return obj;
}

static struct json_object *convert(const xmlNode *e, int depth)
{
	struct json_object *arr;
	const xmlNode *k;

	for (k = e->children; k && !is_element(k); k = k->next)
		;
	if (!k || depth > XML_MAX_DEPTH)
		return text_of(e);
	if (!all_members(e))
		return convert_object(e, depth);
	arr = json_object_new_array();
	for (k = e->children; k; k = k->next)
		if (is_element(k))
			json_object_array_add(arr, convert(k, depth + 1));
	return arr;
}

struct gantry_json *aws_i_xml_to_json(const char *xml, size_t len,
				      char *err, size_t errlen)
{
	xmlDoc *doc;
	xmlNode *root;
	struct json_object *o;

	if (err && errlen)
		err[0] = '\0';
	if (!xml || !len || len > (size_t)0x7fffffff) {
		if (err && errlen)
			snprintf(err, errlen, "empty document");
		return NULL;
	}
	/* No network, no entities: answers come from the network. */
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		const xmlError *xe = xmlGetLastError();

		if (err && errlen)
			snprintf(err, errlen, "line %d: %s",
				 xe ? xe->line : 0,
				 xe && xe->message ? xe->message :
				 "no root element\n");
		/* libxml2's messages end with a newline. */
		if (err && errlen && *err && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
		xmlFreeDoc(doc);
		return NULL;
	}
	o = convert(root, 0);
	xmlFreeDoc(doc);
	return (struct gantry_json *)(void *)o;
}
