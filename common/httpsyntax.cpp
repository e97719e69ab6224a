#include "httpsyntax.h"

#include <algorithm>

namespace HttpSyntax {

bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView s)
{
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

QByteArrayView trimmedOws(QByteArrayView s)
{
    while (!s.isEmpty() && isOws(s.front()))
        s = s.sliced(1);
    while (!s.isEmpty() && isOws(s.back()))
        s.chop(1);
    return s;
}

bool equalsIgnoringCase(QByteArrayView a, QByteArrayView b)
{
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

} // namespace HttpSyntax
