// json.h — a small, strict JSON parser (RFC 8259) for vocab files, id_mapping.json, safetensors
// headers, Hugging Face config.json and our own configs.
//
// Objects keep their keys in file order (SCAN vocab building depends on first-seen order). Numbers
// keep an exact int64 when they are integers (safetensors offsets). Errors give line:column and
// what was expected; nesting is limited (512) so a hostile file cannot overflow the stack.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vsd {

class Json {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };

    Json() = default;
    static Json parse(const std::string& text, const std::string& source = "<json>");
    static Json parse_file(const std::string& path);

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool is_object() const { return type_ == Type::Object; }
    bool is_array() const { return type_ == Type::Array; }
    bool is_string() const { return type_ == Type::String; }
    bool is_number() const { return type_ == Type::Number; }
    bool is_bool() const { return type_ == Type::Bool; }

    // typed access; a wrong type throws naming `what` (e.g. "config.json: hidden_size")
    bool as_bool(const char* what = "value") const;
    double as_double(const char* what = "value") const;
    int64_t as_int(const char* what = "value") const;  // exact for integers; rejects 1.5
    const std::string& as_string(const char* what = "value") const;
    const std::vector<Json>& items(const char* what = "value") const;                       // array
    const std::vector<std::pair<std::string, Json>>& members(const char* what = "value") const;  // object

    size_t size() const;                            // array or object length
    bool has(const std::string& key) const;         // object key present?
    const Json& operator[](const std::string& key) const;  // throws when missing
    const Json& operator[](size_t i) const;
    const Json* find(const std::string& key) const;  // nullptr when missing

    std::string type_name() const;
    const char* source() const { return src_ ? src_->c_str() : "json"; }  // file name, for messages

private:
    Type type_ = Type::Null;
    bool b_ = false;
    double num_ = 0.0;
    bool is_int_ = false;
    int64_t int_ = 0;
    std::string str_;
    std::vector<Json> arr_;
    std::vector<std::pair<std::string, Json>> obj_;
    std::shared_ptr<std::map<std::string, size_t>> index_;  // key -> position, built on parse
    std::shared_ptr<const std::string> src_;                // shared by every node of a document
    friend struct JsonParser;
};

// Escape a string as a JSON string literal (used by our writers).
std::string json_quote(const std::string& s);

}  // namespace vsd
