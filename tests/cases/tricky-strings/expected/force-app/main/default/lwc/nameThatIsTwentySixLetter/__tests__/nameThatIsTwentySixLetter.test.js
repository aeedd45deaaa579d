import { createElement } from 'lwc';
import NameThatIsTwentySixLetter from 'c/nameThatIsTwentySixLetter';
import chat from '@salesforce/apex/NameThatIsTwentySixLetterController.chat';

// Imperative Apex calls become Jest mock functions: no org and no Apex class are needed.
jest.mock('@salesforce/apex/NameThatIsTwentySixLetterController.chat', () => ({ default: jest.fn() }), { virtual: true });

const ANSWER = {
    text: 'Sample answer',
    generationId: 'generation-1',
    toxicityDetected: false,
    toxicityScore: 0,
    toxicityScores: {},
    outputs: {  }
};

// What the controller receives for the values fillInputs enters.
const EXPECTED_INPUTS = {
    subjectLine: 'Sample Subject — “quoted” ’s',
    body: 'Sample A label long enough to push the annotation of this invocable variable past eighty columns',
    notAField: 'Sample Backslash \\ label'
};

function render(properties = {}) {
    const element = createElement('c-name-that-is-twenty-six-letter', { is: NameThatIsTwentySixLetter });
    Object.assign(element, properties);
    document.body.appendChild(element);
    return element;
}

function control(element, name) {
    const controls = element.shadowRoot.querySelectorAll('lightning-input, lightning-textarea, lightning-radio-group');
    return [...controls].find((found) => found.name === name);
}

function enter(element, name, property, value) {
    const target = control(element, name);
    target[property] = value;
    target.dispatchEvent(new CustomEvent('change'));
}

function button(element, label) {
    return [...element.shadowRoot.querySelectorAll('lightning-button')].find((found) => found.label === label);
}

function shown(element, selector) {
    return element.shadowRoot.querySelector(selector);
}

function fillInputs(element) {
    enter(element, 'subjectLine', 'value', 'Sample Subject — “quoted” ’s');
    enter(element, 'body', 'value', 'Sample A label long enough to push the annotation of this invocable variable past eighty columns');
    enter(element, 'notAField', 'value', 'Sample Backslash \\ label');
}

// Lets the mocked Apex promises settle and the component render again.
function flushPromises() {
    return new Promise((resolve) => setTimeout(resolve, 0));
}

async function send(element) {
    fillInputs(element);
    await flushPromises();
    button(element, 'Start Conversation').click();
    await flushPromises();
}

async function followUp(element, text) {
    enter(element, 'follow-up', 'value', text);
    await flushPromises();
    button(element, 'Send').click();
    await flushPromises();
}

function turns(element) {
    return [...element.shadowRoot.querySelectorAll('.conversation lightning-formatted-text')].map((turn) => turn.value);
}

describe('c-name-that-is-twenty-six-letter', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.resetAllMocks();
    });

    it('shows a labelled control for each input and a live region for the answer', () => {
        const element = render();

        expect(shown(element, 'lightning-card').title).toBe('Label with \'single\' quotes and a very long tail so the invocable method annotation breaks');
        expect(control(element, 'subjectLine').label).toBe('Subject — “quoted” ’s');
        expect(control(element, 'subjectLine').required).toBe(true);
        expect(control(element, 'body').label).toBe('A label long enough to push the annotation of this invocable variable past eighty columns');
        expect(control(element, 'body').required).toBe(true);
        expect(control(element, 'notAField').label).toBe('Backslash \\ label');
        expect(shown(element, '[aria-live="polite"]')).not.toBeNull();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('waits for the required inputs before it can send', async () => {
        const element = render();

        expect(button(element, 'Start Conversation').disabled).toBe(true);
        fillInputs(element);
        await flushPromises();
        expect(button(element, 'Start Conversation').disabled).toBe(false);
    });

    it('shows a spinner while it waits for the controller', async () => {
        let finish;
        chat.mockReturnValue(new Promise((resolve) => {
            finish = resolve;
        }));
        const element = render();

        await send(element);
        expect(shown(element, 'lightning-spinner')).not.toBeNull();
        finish(ANSWER);
        await flushPromises();
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('starts the conversation with the inputs and no history', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);

        expect(chat).toHaveBeenCalledWith({ ...EXPECTED_INPUTS, history: [] });
        expect(turns(element)).toEqual(['Sample answer']);
        expect(shown(element, '.toxicity')).toBeNull();
        expect(shown(element, '.error')).toBeNull();
    });

    it('sends the conversation so far with a follow-up', async () => {
        chat.mockResolvedValueOnce(ANSWER).mockResolvedValueOnce({ ...ANSWER, text: 'Second answer', generationId: 'generation-2' });
        const element = render();

        await send(element);
        await followUp(element, 'Shorter, please');

        expect(chat).toHaveBeenLastCalledWith({
            ...EXPECTED_INPUTS,
            history: [
                { role: 'assistant', content: 'Sample answer' },
                { role: 'user', content: 'Shorter, please' }
            ]
        });
        expect(turns(element)).toEqual(['Sample answer', 'Shorter, please', 'Second answer']);
    });

    it('starts over with a new conversation', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);
        button(element, 'New Conversation').click();
        await flushPromises();

        expect(turns(element)).toEqual([]);
        expect(button(element, 'Start Conversation')).toBeDefined();
    });

    it('flags an answer the Trust Layer found toxic', async () => {
        chat.mockResolvedValue({ ...ANSWER, toxicityDetected: true, toxicityScore: 0.91 });
        const element = render();

        await send(element);

        expect(shown(element, '.toxicity')).not.toBeNull();
    });

    it('shows the message of a failed call', async () => {
        chat.mockRejectedValue({ body: { message: 'The Models API is not available.' } });
        const element = render();

        await send(element);

        expect(shown(element, '.error').textContent).toBe('The Models API is not available.');
        expect(shown(element, 'lightning-spinner')).toBeNull();
    });

    it('refuses Subject — “quoted” ’s over 4000 characters with a message, before any call', async () => {
        const element = render();
        fillInputs(element);
        enter(element, 'subjectLine', 'value', 'x'.repeat(4001));
        await flushPromises();

        button(element, 'Start Conversation').click();
        await flushPromises();

        expect(chat).not.toHaveBeenCalled();
        expect(shown(element, '.error').textContent).toBe('Subject — “quoted” ’s is too long: at most 4000 characters');
        expect(control(element, 'subjectLine').maxLength).toBe('4000');
    });

    it('sends only the last 10 turns of a long conversation', async () => {
        chat.mockResolvedValue(ANSWER);
        const element = render();

        await send(element);
        for (let turn = 1; turn <= 10; turn++) {
            // eslint-disable-next-line no-await-in-loop
            await followUp(element, `Follow-up ${turn}`);
        }

        const { history } = chat.mock.calls[chat.mock.calls.length - 1][0];
        expect(history).toHaveLength(10);
        expect(history[history.length - 1]).toEqual({ role: 'user', content: 'Follow-up 10' });
    });
});
