#include "logview.h"

#include "logmodel.h"

#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QScrollBar>

#include <algorithm>
#include <utility>

namespace {

// Sets a flag for the duration of a scope.
class FlagGuard
{
public:
    explicit FlagGuard(bool &flag) : m_flag(flag), m_old(flag) { m_flag = true; }
    ~FlagGuard() { m_flag = m_old; }
    Q_DISABLE_COPY_MOVE(FlagGuard)

private:
    bool &m_flag;
    bool m_old;
};

} // namespace

LogView::LogView(QWidget *parent)
    : QTableView(parent), m_pausedBar(new QFrame(this)), m_pausedLabel(new QLabel(m_pausedBar)),
      m_liveButton(new QPushButton(tr("Live"), m_pausedBar))
{
    setSelectionBehavior(SelectRows);
    setSelectionMode(ExtendedSelection);
    setEditTriggers(NoEditTriggers);
    setShowGrid(false);
    setWordWrap(false);
    setTextElideMode(Qt::ElideRight);
    setAlternatingRowColors(true);
    setCornerButtonEnabled(false);
    setTabKeyNavigation(false);
    // Per pixel: the last line sits flush with the bottom while following, and nothing jumps
    // when following stops. Rows have one fixed height, so evictions shift by a known amount.
    setVerticalScrollMode(ScrollPerPixel);
    setHorizontalScrollMode(ScrollPerPixel);
    verticalHeader()->hide();
    // Fixed row heights: with 200,000 rows the header must not measure each one.
    verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    horizontalHeader()->setHighlightSections(false);
    horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    horizontalHeader()->setSectionsMovable(true);
    applyRowHeight();

    m_pausedBar->setObjectName(QStringLiteral("pausedBar"));
    m_pausedBar->setFrameShape(QFrame::StyledPanel);
    m_pausedBar->setAutoFillBackground(true);
    m_pausedBar->setBackgroundRole(QPalette::ToolTipBase);
    m_pausedLabel->setForegroundRole(QPalette::ToolTipText);
    m_pausedLabel->setObjectName(QStringLiteral("pausedLabel"));
    m_liveButton->setObjectName(QStringLiteral("liveButton"));
    m_liveButton->setToolTip(tr("Follow new lines again (End)"));
    m_liveButton->setCursor(Qt::PointingHandCursor);
    auto *layout = new QHBoxLayout(m_pausedBar);
    layout->setContentsMargins(10, 4, 4, 4);
    layout->setSpacing(10);
    layout->addWidget(m_pausedLabel);
    layout->addWidget(m_liveButton);
    m_pausedBar->hide();
    connect(m_liveButton, &QPushButton::clicked, this, &LogView::goLive);

    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &LogView::handleScrolled);
}

LogView::~LogView() = default;

void LogView::setModel(QAbstractItemModel *model)
{
    if (QAbstractItemModel *old = this->model())
        old->disconnect(this);
    // Before the base class connects its selection model: an evicted current line must not
    // make the view scroll to its successor (see currentChanged below).
    if (model) {
        connect(model, &QAbstractItemModel::rowsAboutToBeRemoved, this,
                &LogView::handleRowsAboutToBeRemoved);
        connect(model, &QAbstractItemModel::rowsAboutToBeInserted, this,
                &LogView::handleRowsAboutToBeInserted);
    }
    QTableView::setModel(model);
    if (!model)
        return;
    connect(model, &QAbstractItemModel::rowsRemoved, this, &LogView::handleRowsRemoved);
    connect(model, &QAbstractItemModel::rowsInserted, this, &LogView::handleRowsInserted);
    connect(model, &QAbstractItemModel::modelReset, this, [this] {
        if (m_following)
            scrollToNewest();
    });
    connect(model, &QAbstractItemModel::layoutChanged, this, [this] {
        if (m_following)
            scrollToNewest();
    });
    connect(selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &LogView::handleSelectionChanged);
}

void LogView::applyDefaultColumnWidths()
{
    QHeaderView *header = horizontalHeader();
    const QFontMetrics fm(font());
    const auto width = [&fm](const char *sample) {
        return fm.horizontalAdvance(QLatin1StringView(sample)) + 18;
    };
    header->resizeSection(LogModel::TimeColumn, width("00:00:00.000"));
    header->resizeSection(LogModel::ChannelColumn, width("logs:generation"));
    header->resizeSection(LogModel::LevelColumn, width("ERROR"));
    header->resizeSection(LogModel::ServiceColumn, width("llm-backend-01"));
    header->resizeSection(LogModel::ModelColumn, width("Llama-3.1-8B-Instruct"));
    for (const int c : {int(LogModel::InputTokensColumn), int(LogModel::OutputTokensColumn)})
        header->resizeSection(c, width("131072"));
    for (const int c : {int(LogModel::DurationColumn), int(LogModel::TtftColumn)})
        header->resizeSection(c, width("12345 ms"));
    header->resizeSection(LogModel::IdColumn, width("0af76519..."));
    header->setSectionResizeMode(LogModel::MessageColumn, QHeaderView::Stretch);
}

void LogView::currentChanged(const QModelIndex &current, const QModelIndex &previous)
{
    if (m_removing) {
        // The current line was evicted and the selection model moved it to a neighbour; the
        // base class would scroll there. Just repaint.
        viewport()->update();
        return;
    }
    QTableView::currentChanged(current, previous);
}

void LogView::goLive()
{
    setFollowing(true);
    scrollToNewest();
}

void LogView::pause()
{
    setFollowing(false);
}

void LogView::setFollowing(bool following)
{
    if (following == m_following)
        return;
    m_following = following;
    m_newWhilePaused = 0;
    updatePausedBar();
    Q_EMIT followingChanged(following);
}

void LogView::scrollToNewest()
{
    FlagGuard guard(m_adjusting);
    scrollToBottom(); // also runs a pending layout, so the new rows count
}

void LogView::handleScrolled(int value)
{
    if (m_adjusting)
        return;
    const bool atBottom = value >= verticalScrollBar()->maximum();
    if (m_following && !atBottom)
        setFollowing(false);
    else if (!m_following && atBottom)
        setFollowing(true);
    if (!m_following && value <= verticalScrollBar()->minimum())
        Q_EMIT scrolledToTop();
}

void LogView::handleRowsAboutToBeInserted(const QModelIndex &parent, int first, int)
{
    // Rows going in above existing ones (older lines from the history), not at the end.
    if (!parent.isValid() && first < model()->rowCount())
        m_valueBeforeInsertAbove = verticalScrollBar()->value();
}

void LogView::handleRowsInserted(const QModelIndex &parent, int first, int last)
{
    if (parent.isValid())
        return;
    const int above = std::exchange(m_valueBeforeInsertAbove, -1);
    if (m_following) {
        scrollToNewest();
        return;
    }
    if (above >= 0) {
        // Paused: the lines in view stay where they are, the older ones above them.
        FlagGuard guard(m_adjusting);
        updateGeometries(); // the scroll range must include the new rows before moving in it
        verticalScrollBar()->setValue(above +
                                      (last - first + 1) * verticalHeader()->defaultSectionSize());
        return;
    }
    m_newWhilePaused += last - first + 1;
    updatePausedBar();
}

void LogView::handleRowsAboutToBeRemoved(const QModelIndex &parent, int, int)
{
    if (parent.isValid())
        return;
    m_removing = true;
    m_valueBeforeRemoval = verticalScrollBar()->value();
}

void LogView::handleRowsRemoved(const QModelIndex &parent, int first, int last)
{
    if (parent.isValid())
        return;
    m_removing = false;
    if (m_following || m_valueBeforeRemoval < 0)
        return;
    // Paused: keep the same lines in view while older ones go away above them.
    const int rowHeight = verticalHeader()->defaultSectionSize();
    int value = m_valueBeforeRemoval;
    if ((last + 1) * rowHeight <= value)
        value -= (last - first + 1) * rowHeight;
    else if (first * rowHeight < value)
        value = first * rowHeight;
    m_valueBeforeRemoval = -1;
    FlagGuard guard(m_adjusting);
    verticalScrollBar()->setValue(value);
}

void LogView::handleSelectionChanged(const QItemSelection &selected)
{
    // Selecting a line means reading it: stop moving. Lines leaving the selection because they
    // were evicted do not count.
    if (!selected.isEmpty() && !m_adjusting && !m_removing)
        setFollowing(false);
}

void LogView::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_End &&
        (event->modifiers() & ~(Qt::ControlModifier | Qt::KeypadModifier)) == 0) {
        goLive();
        event->accept();
        return;
    }
    if (event->key() == Qt::Key_Home &&
        (event->modifiers() & ~(Qt::ControlModifier | Qt::KeypadModifier)) == 0) {
        // The oldest line, even when the current line already is the first one.
        QTableView::keyPressEvent(event);
        pause();
        scrollToTop();
        return;
    }
    if (event->matches(QKeySequence::Copy)) {
        copySelection();
        event->accept();
        return;
    }
    QTableView::keyPressEvent(event);
}

QList<int> LogView::selectedRows() const
{
    QList<int> rows;
    if (!selectionModel())
        return rows;
    for (const QModelIndex &index : selectionModel()->selectedRows())
        rows.append(index.row());
    std::sort(rows.begin(), rows.end());
    return rows;
}

QString LogView::selectedText() const
{
    QString text;
    const QHeaderView *header = horizontalHeader();
    for (const int row : selectedRows()) {
        QStringList cells;
        for (int visual = 0; visual < header->count(); ++visual) {
            const int column = header->logicalIndex(visual);
            if (!isColumnHidden(column))
                cells.append(model()->index(row, column).data().toString());
        }
        text += cells.join(u'\t') + u'\n';
    }
    return text;
}

void LogView::copySelection()
{
    const QString text = selectedText();
    if (!text.isEmpty())
        QApplication::clipboard()->setText(text);
}

void LogView::setPausedBarEnabled(bool enabled)
{
    m_pausedBarEnabled = enabled;
    updatePausedBar();
}

void LogView::updatePausedBar()
{
    if (m_following || !m_pausedBarEnabled) {
        m_pausedBar->hide();
        return;
    }
    m_pausedLabel->setText(tr("Paused · %1 new").arg(QLocale().toString(m_newWhilePaused)));
    m_pausedBar->adjustSize();
    placePausedBar();
    m_pausedBar->show();
    m_pausedBar->raise();
}

void LogView::placePausedBar()
{
    const QRect area = viewport()->geometry();
    const QSize size = m_pausedBar->sizeHint();
    m_pausedBar->setGeometry(area.center().x() - size.width() / 2,
                             area.bottom() - size.height() - 12, size.width(), size.height());
}

void LogView::resizeEvent(QResizeEvent *event)
{
    QTableView::resizeEvent(event);
    placePausedBar();
    if (m_following)
        scrollToNewest();
}

void LogView::changeEvent(QEvent *event)
{
    QTableView::changeEvent(event);
    if (event->type() == QEvent::FontChange)
        applyRowHeight();
}

void LogView::applyRowHeight()
{
    verticalHeader()->setMinimumSectionSize(1);
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
}
