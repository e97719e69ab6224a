#include "historysearchpanel.h"

#include "historyfetcher.h"
#include "historysearch.h"
#include "logmodel.h"
#include "logview.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>

HistorySearchPanel::HistorySearchPanel(HistorySearch *search, QWidget *parent)
    : QWidget(parent), m_search(search), m_model(new LogModel(maxResults, this)),
      m_view(new LogView), m_banner(new QFrame), m_bannerText(new QLabel(m_banner)),
      m_olderButton(new QPushButton(tr("Search Older"), m_banner)),
      m_backButton(new QPushButton(tr("Back to Live"), m_banner))
{
    m_banner->setObjectName(QStringLiteral("historySearchBanner"));
    m_banner->setFrameShape(QFrame::StyledPanel);
    m_banner->setAutoFillBackground(true);
    m_banner->setBackgroundRole(QPalette::AlternateBase);
    m_bannerText->setObjectName(QStringLiteral("historySearchText"));
    m_bannerText->setWordWrap(true);
    m_bannerText->setTextFormat(
        Qt::PlainText); // the query is the user's, the reasons the gateway's
    m_bannerText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_olderButton->setObjectName(QStringLiteral("searchOlderButton"));
    m_olderButton->setToolTip(tr("Search the history before the oldest line searched so far"));
    m_backButton->setObjectName(QStringLiteral("backToLiveButton"));
    m_backButton->setToolTip(tr("Leave the search and show the live log"));
    auto *bannerLayout = new QHBoxLayout(m_banner);
    bannerLayout->setContentsMargins(10, 6, 6, 6);
    bannerLayout->addWidget(m_bannerText, 1);
    bannerLayout->addWidget(m_olderButton);
    bannerLayout->addWidget(m_backButton);

    m_view->setObjectName(QStringLiteral("historySearchView"));
    m_view->setModel(m_model);
    m_view->applyDefaultColumnWidths();
    m_view->setPausedBarEnabled(false); // results do not grow at the bottom

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_banner);
    layout->addWidget(m_view, 1);

    connect(m_olderButton, &QPushButton::clicked, m_search, &HistorySearch::searchOlder);
    connect(m_backButton, &QPushButton::clicked, this, &HistorySearchPanel::backToLiveRequested);
    connect(m_search, &HistorySearch::pageFound, this, &HistorySearchPanel::handlePage);
    connect(m_search, &HistorySearch::changed, this, &HistorySearchPanel::updateBanner);
    updateBanner();
}

HistorySearchPanel::~HistorySearchPanel() = default;

void HistorySearchPanel::start(const QString &query)
{
    m_model->clear();
    m_view->goLive(); // the newest matches at the bottom, as in the live log
    m_search->start(query);
}

QString HistorySearchPanel::bannerText() const
{
    return m_bannerText->text();
}

void HistorySearchPanel::handlePage(const LogPage &page)
{
    if (page.request.before.isEmpty()) {
        m_model->clear();
        m_model->append(page.records);
        m_view->goLive();
    } else {
        // Older matches above the ones shown; the view keeps its place.
        m_model->prepend(page.records);
    }
}

void HistorySearchPanel::updateBanner()
{
    const QLocale locale;
    const QString channels = m_search->fetcher()->channels().isEmpty()
                                 ? tr("all channels")
                                 : m_search->fetcher()->channels().join(QStringLiteral(", "));
    const QString what = tr("History search for \"%1\" in %2").arg(m_search->query(), channels);
    QString text;
    if (!m_search->error().isEmpty()) {
        text = tr("%1 failed: %2").arg(what, m_search->error());
    } else if (m_search->isBusy() && m_search->stopped().isEmpty()) {
        text = tr("%1: searching…").arg(what);
    } else {
        const QString found = m_search->found() == 1
                                  ? tr("1 line matches")
                                  : tr("%1 lines match").arg(locale.toString(m_search->found()));
        const QString examined = locale.toString(m_search->scanned());
        QString where;
        if (m_search->isBusy())
            where = tr("searching older lines…");
        else if (m_search->stopped() == QLatin1StringView("start"))
            where = tr("the whole history the gateway holds was searched (%1 entries examined)")
                        .arg(examined);
        else if (m_search->stopped() == QLatin1StringView("scan-limit"))
            where = tr("%1 entries examined so far without reaching the oldest; Search Older "
                       "looks further back")
                        .arg(examined);
        else
            where = tr("%1 entries examined; Search Older shows earlier matches").arg(examined);
        text = tr("%1: %2, %3.").arg(what, found, where);
    }
    m_bannerText->setText(text);
    m_olderButton->setEnabled(m_search->canSearchOlder() && !m_search->isBusy());
}
