package p

x := json.unmarshal("{not json")
