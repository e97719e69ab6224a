#include "settingsdialog.h"

#include "gatewayurl.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStyle>
#include <QVBoxLayout>

SettingsDialog::SettingsDialog(const DesktopSettings &settings, const QString &storageLocation,
                               bool firstStart, QWidget *parent)
    : QDialog(parent), m_url(new QLineEdit(this)), m_token(new QLineEdit(this)),
      m_channels(new QLineEdit(this)), m_caFile(new QLineEdit(this)), m_buffer(new QSpinBox(this)),
      m_urlError(new QLabel(this)), m_tokenWarning(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(firstStart ? tr("Welcome to LLM Streamer") : tr("Settings"));
    auto *layout = new QVBoxLayout(this);
    if (firstStart) {
        auto *intro = new QLabel(tr("Where is your LLM Streamer gateway? The desktop monitor "
                                    "subscribes to its live event feed."),
                                 this);
        intro->setWordWrap(true);
        layout->addWidget(intro);
    }

    m_url->setObjectName(QStringLiteral("urlEdit"));
    m_url->setText(settings.gatewayUrl);
    m_url->setPlaceholderText(QStringLiteral("http://127.0.0.1:8000"));
    m_url->setClearButtonEnabled(true);
    m_urlError->setObjectName(QStringLiteral("urlError"));
    m_urlError->setWordWrap(true);
    QPalette errorPalette = m_urlError->palette();
    errorPalette.setColor(QPalette::WindowText, QColor(0xd0, 0x30, 0x30));
    m_urlError->setPalette(errorPalette);

    m_token->setObjectName(QStringLiteral("tokenEdit"));
    m_token->setText(settings.token);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("none"));
    QAction *reveal = m_token->addAction(style()->standardIcon(QStyle::SP_FileDialogContentsView),
                                         QLineEdit::TrailingPosition);
    reveal->setCheckable(true);
    reveal->setToolTip(tr("Show the token"));
    connect(reveal, &QAction::toggled, this, [this](bool shown) {
        m_token->setEchoMode(shown ? QLineEdit::Normal : QLineEdit::Password);
    });
    m_tokenWarning->setObjectName(QStringLiteral("tokenWarning"));
    m_tokenWarning->setWordWrap(true);
    m_tokenWarning->setTextFormat(Qt::PlainText);
    m_tokenWarning->setText(
        tr("The token is stored unencrypted in %1. To keep it out of the settings, leave this "
           "empty and start the monitor with LLMSTREAMER_TOKEN set instead.")
            .arg(QDir::toNativeSeparators(storageLocation)));
    QFont small = m_tokenWarning->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_tokenWarning->setFont(small);
    m_tokenWarning->setForegroundRole(QPalette::PlaceholderText);

    m_channels->setObjectName(QStringLiteral("channelsEdit"));
    m_channels->setText(settings.channels);
    m_channels->setPlaceholderText(tr("all channels, or e.g. logs:errors, logs:gen*"));

    m_caFile->setObjectName(QStringLiteral("caFileEdit"));
    m_caFile->setText(settings.caFile);
    m_caFile->setPlaceholderText(tr("none: the system's CAs"));
    m_caFile->setClearButtonEnabled(true);
    m_caFile->setToolTip(tr("For an https:// gateway whose certificate a private CA signed: that "
                            "CA's certificate (PEM)."));
    QAction *browse = m_caFile->addAction(style()->standardIcon(QStyle::SP_DirOpenIcon),
                                          QLineEdit::TrailingPosition);
    browse->setToolTip(tr("Choose the CA file"));
    connect(browse, &QAction::triggered, this, [this] {
        const QString file =
            QFileDialog::getOpenFileName(this, tr("CA certificate"), m_caFile->text(),
                                         tr("PEM certificates (*.pem *.crt *.cer);;All files (*)"));
        if (!file.isEmpty())
            m_caFile->setText(file);
    });

    m_buffer->setObjectName(QStringLiteral("bufferEdit"));
    m_buffer->setRange(int(DesktopSettings::minBufferLines), int(DesktopSettings::maxBufferLines));
    m_buffer->setSingleStep(50'000);
    m_buffer->setGroupSeparatorShown(true);
    m_buffer->setSuffix(tr(" lines"));
    m_buffer->setValue(int(settings.bufferLines));
    m_buffer->setToolTip(tr("How many lines the log keeps; the oldest go first. About 0.5 KB "
                            "each."));

    auto *form = new QFormLayout;
    form->addRow(tr("Gateway &URL:"), m_url);
    form->addRow(QString(), m_urlError);
    form->addRow(tr("Access &token:"), m_token);
    form->addRow(QString(), m_tokenWarning);
    form->addRow(tr("&Channels:"), m_channels);
    form->addRow(tr("C&A file:"), m_caFile);
    form->addRow(tr("&Keep:"), m_buffer);
    layout->addLayout(form);
    layout->addStretch();
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_url, &QLineEdit::textChanged, this, &SettingsDialog::validate);
    validate();
    resize(520, sizeHint().height());
}

SettingsDialog::~SettingsDialog() = default;

QString SettingsDialog::validationError() const
{
    QString why;
    return GatewayUrl::parse(m_url->text(), &why) ? QString() : why;
}

void SettingsDialog::validate()
{
    const QString why = validationError();
    m_urlError->setText(why);
    m_urlError->setVisible(!why.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

DesktopSettings SettingsDialog::settings() const
{
    DesktopSettings s;
    s.gatewayUrl = m_url->text().trimmed();
    s.token = m_token->text().trimmed();
    s.channels = m_channels->text().trimmed();
    s.caFile = m_caFile->text().trimmed();
    s.bufferLines = m_buffer->value();
    return s;
}
